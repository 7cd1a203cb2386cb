"""SIP gateway of the call-centre suite (pjsua2 B2BUA).

A plain Python package that runs beside Odoo (``python -m gateway``) and
talks to it only through the gateway HTTP API and the bus websocket. The
Odoo server never imports it.
"""

__version__ = "18.0.1.0.0"
