from . import call_partner_import, call_partner_import_column
