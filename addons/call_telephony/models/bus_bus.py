import datetime
import json
import logging

from odoo import api, fields, models
from odoo.tools import SQL, OrderedSet
from odoo.tools.sql import create_index

from odoo.addons.bus.models.bus import (
    TIMEOUT,
    channel_with_db,
    get_notify_payloads,
    json_dump,
)

from .. import bus_notify

_logger = logging.getLogger(__name__)

CREATE_DATE_INDEX = "bus_bus_create_date_index"


class BusBus(models.Model):
    _inherit = "bus.bus"

    def init(self):
        """Index the messages by date.

        A websocket that subscribed without a last message id (a fresh
        login) polls by date (``create_date`` newer than the bus timeout)
        until it has held a message for 10 seconds: with no index each such
        poll scans the whole table, which only the daily autovacuum prunes.
        With a day of calls in it (57,000 rows) those scans took 30-57 ms
        each and doubled the screen-pop time of 30 agents rung at once.
        """
        result = super().init()
        create_index(self.env.cr, CREATE_DATE_INDEX, self._table, ["create_date"])
        return result

    def _ensure_hooks(self):
        """Odoo's commit hooks of the bus messages, cheaper on the screen-pop
        path: the messages of a transaction go in with one ``INSERT`` (Odoo's
        ``create`` reads the defaults of every row: 7 ms for the 30 cards of a
        ringing batch) and the worker is told on a kept connection
        (``bus_notify``: Odoo connects to the ``postgres`` database anew
        after every commit). Same queued data, same rows, same payloads;
        ``call_telephony_bus_send = False`` keeps Odoo's hooks."""
        if not bus_notify.enabled():
            return super()._ensure_hooks()
        cr = self.env.cr
        if "bus.bus.values" not in cr.precommit.data:
            cr.precommit.data["bus.bus.values"] = []

            @cr.precommit.add
            def insert_messages():
                self.sudo()._call_insert_messages(
                    cr.precommit.data.pop("bus.bus.values")
                )

        if "bus.bus.channels" not in cr.postcommit.data:
            cr.postcommit.data["bus.bus.channels"] = OrderedSet()

            # after the commit, as Odoo's: the worker must find the rows
            @cr.postcommit.add
            def notify():
                channels = list(cr.postcommit.data.pop("bus.bus.channels"))
                payloads = get_notify_payloads(channels)
                if len(payloads) > 1:
                    _logger.info(
                        "bus notification split into %d payloads", len(payloads)
                    )
                bus_notify.NOTIFIER.notify(payloads)

    @api.model
    def _call_insert_messages(self, vals_list):
        """Create the messages of ``vals_list`` (``channel`` and ``message``
        only, as ``_sendone`` queues them) with one ``INSERT``, in their
        order; any other values go through ``create``."""
        if any(vals.keys() != {"channel", "message"} for vals in vals_list):
            return self.create(vals_list)
        if not vals_list:
            return self.browse()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO %(table)s
                    (channel, message, create_uid, write_uid, create_date, write_date)
                SELECT v.channel, v.message, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(channels)s::varchar[], %(messages)s::varchar[])
                       WITH ORDINALITY AS v(channel, message, position)
                 ORDER BY v.position
                RETURNING id
                """,
                table=SQL.identifier(self._table),
                uid=self.env.uid,
                now=self.env.cr.now(),
                channels=[vals["channel"] for vals in vals_list],
                messages=[vals["message"] for vals in vals_list],
            )
        )
        return self.browse(sorted(row[0] for row in self.env.cr.fetchall()))

    @api.model
    def _call_poll_many(self, requests):
        """What ``_poll(channels, last, ignore_ids)`` returns for each
        ``(channels, last, ignore_ids)`` of ``requests``, read with one query
        (the websockets woken together, see ``bus_dispatch.py``): the
        database returns each socket's messages and nothing else."""
        dbname = self.env.cr.dbname
        wanted = {"index": [], "channel": [], "last": []}
        ignored = {"index": [], "id": []}
        for index, (channels, last, ignore_ids) in enumerate(requests):
            for channel in {json_dump(channel_with_db(dbname, c)) for c in channels}:
                wanted["index"].append(index)
                wanted["channel"].append(channel)
                wanted["last"].append(last)
            ignored["index"] += [index] * len(ignore_ids or ())
            ignored["id"] += list(ignore_ids or ())
        found = [[] for _request in requests]
        if not wanted["index"]:
            return found
        self.env.cr.execute(self._call_poll_query(wanted, ignored))
        messages = {}
        for index, notif_id, message in self.env.cr.fetchall():
            if notif_id not in messages:
                messages[notif_id] = {"id": notif_id, "message": json.loads(message)}
            found[index].append(messages[notif_id])
        return found

    def _call_poll_query(self, wanted, ignored):
        """``(socket index, id, message)`` of the messages of each socket's
        channels after its last id (newer than the bus timeout when its last
        id is 0), but not its ignored ids, in the order of ``_poll``."""
        since = fields.Datetime.now() - datetime.timedelta(seconds=TIMEOUT)
        lasts = [last for last in wanted["last"] if last]
        windows = []
        if lasts:
            windows.append(SQL("bus.id > %s", min(lasts)))
        if len(lasts) < len(wanted["last"]):
            windows.append(SQL("bus.create_date > %s", since))
        return SQL(
            """
            SELECT ws.idx, bus.id, bus.message
              FROM unnest(%(indexes)s::int[], %(channels)s::varchar[], %(lasts)s::int[])
                   AS ws(idx, channel, last)
              JOIN %(table)s bus ON bus.channel = ws.channel
             WHERE (%(window)s)
               AND CASE WHEN ws.last = 0 THEN bus.create_date > %(since)s
                        ELSE bus.id > ws.last END
               AND NOT EXISTS (
                   SELECT 1
                     FROM unnest(%(ignored_indexes)s::int[], %(ignored_ids)s::int[])
                          AS ign(idx, id)
                    WHERE ign.idx = ws.idx AND ign.id = bus.id)
             ORDER BY ws.idx, bus.id
            """,
            indexes=wanted["index"],
            channels=wanted["channel"],
            lasts=wanted["last"],
            table=SQL.identifier(self._table),
            window=SQL(" OR ").join(windows),
            since=since,
            ignored_indexes=ignored["index"],
            ignored_ids=ignored["id"],
        )
