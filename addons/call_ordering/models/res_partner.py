from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.phone_number import caller_id_variants
from .bulk_insert import bulk_insert

# partner field -> kind of its row in call.partner.number
NUMBER_FIELDS = {
    "call_preferred_number": "preferred",
    "mobile": "mobile",
    "phone": "phone",
    "call_home_phone": "home",
    "call_work_phone": "work",
}
LAST_ORDERS = 5


class ResPartner(models.Model):
    _inherit = "res.partner"

    call_customer_ref = fields.Char(
        string="Customer Number", copy=False, index="btree_not_null", readonly=True
    )
    call_preferred_number = fields.Char(string="Preferred Number")
    call_gender = fields.Selection(
        [("male", "Male"), ("female", "Female"), ("other", "Other")],
        string="Gender",
    )
    call_home_phone = fields.Char(string="Home Phone")
    call_work_phone = fields.Char(string="Work Phone")
    call_owner_user_id = fields.Many2one(
        "res.users",
        string="Owner Agent",
        index="btree_not_null",
        help="The agent who looks after this customer. Only managers may change it.",
    )
    call_note = fields.Text(string="Call Centre Notes")
    call_number_ids = fields.One2many(
        "call.partner.number", "partner_id", string="Phone Numbers"
    )
    call_order_ids = fields.One2many("call.order", "partner_id", string="Orders")
    call_order_count = fields.Integer(
        string="Order Count", compute="_compute_call_order_count"
    )
    call_has_invalid_number = fields.Boolean(
        string="Has Invalid Number",
        compute="_compute_call_has_invalid_number",
        store=True,
    )
    call_number_search = fields.Char(
        string="Caller Number",
        compute="_compute_call_number_search",
        search="_search_call_number_search",
        help="Finds customers by any form of one of their numbers.",
    )
    call_can_change_owner = fields.Boolean(compute="_compute_call_can_change_owner")

    def _compute_call_order_count(self):
        counts = dict(
            self.env["call.order"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.call_order_count = counts.get(partner, 0)

    @api.depends("call_number_ids.is_valid")
    def _compute_call_has_invalid_number(self):
        for partner in self:
            partner.call_has_invalid_number = any(
                not number.is_valid for number in partner.call_number_ids
            )

    def _compute_call_number_search(self):
        self.call_number_search = False

    def _search_call_number_search(self, operator, value):
        if operator not in ("=", "ilike", "like", "=ilike") or not value:
            return [("call_number_ids", "!=", False)]
        variants = self._call_number_variants(value)
        if not variants:
            return [("call_number_ids.number", "ilike", value)]
        return [("call_number_ids.number_e164", "in", variants)]

    @api.depends_context("uid")
    def _compute_call_can_change_owner(self):
        allowed = self._call_user_can_change_owner()
        for partner in self:
            partner.call_can_change_owner = allowed

    @api.model_create_multi
    def create(self, vals_list):
        missing = [
            vals
            for vals in vals_list
            if not vals.get("call_customer_ref") and not vals.get("parent_id")
        ]
        for vals, ref in zip(
            missing, self._call_next_customer_refs(len(missing)), strict=True
        ):
            vals["call_customer_ref"] = ref
        partners = super().create(vals_list)
        partners._call_sync_numbers(set(NUMBER_FIELDS))
        return partners

    def write(self, vals):
        if "call_owner_user_id" in vals:
            self._call_check_owner_change(vals["call_owner_user_id"])
        result = super().write(vals)
        changed = set(vals) & set(NUMBER_FIELDS)
        if changed:
            self._call_sync_numbers(changed)
        return result

    def action_call_view_orders(self):
        """Order history of this customer (smart button)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_ordering.call_order_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_call_new_order(self):
        """Open a new order for this customer."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Order"),
            "res_model": "call.order",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_partner_id": self.id,
                "default_caller_number": self.call_preferred_number
                or self.mobile
                or self.phone,
            },
        }

    @api.model
    def _call_search_by_number(self, number):
        """All customers having ``number`` in any of its forms.

        :param number: caller ID or typed number
        :return: res.partner recordset, most recent order first (customers
            without orders last); record rules of the current user apply.
        """
        variants = self._call_number_variants(number)
        if not variants:
            return self.browse()
        return self._call_search_by_e164(variants)

    @api.model
    def _call_search_by_numbers(self, numbers):
        """:meth:`_call_search_by_number` for many numbers with one query
        (the calls of a gateway batch).

        :return: ``{number: res.partner}`` for each of ``numbers``
        """
        variants = {number: self._call_number_variants(number) for number in numbers}
        wanted = {e164 for forms in variants.values() for e164 in forms}
        found = self._call_search_by_e164(wanted, by_number=True) if wanted else {}
        order = found.get("order", [])
        result = {}
        for number, forms in variants.items():
            ids = []
            for e164 in forms:
                ids += [pid for pid in found.get(e164, ()) if pid not in ids]
            # most recent order first over all the forms, as one lookup gives
            result[number] = self.browse(sorted(ids, key=order.index))
        return result

    @api.model
    def _call_search_by_e164(self, variants, by_number=False):
        """The customers having one of the E.164 ``variants``, most recent
        order first; the current user's access rights and record rules apply.

        One small SQL query does the indexed match on
        ``call_partner_number.number_e164``, the "active" filter and the
        ordering, and also returns the columns the user's record rules test;
        the rules are then applied to its few rows in Python, exactly as
        ``has_access`` does.  Building the rules into a full ``_search`` and
        loading the records again to check them cost more than the lookup.

        :param by_number: return ``{e164: [partner ids]}`` of the variants
            found, plus ``"order"``: all those ids, most recent order first
        """
        rule_fields = []
        if not self.env.su:
            # like _search: no read access at all is an error, not "nobody"
            self.browse().check_access("read")
            domain = self.env["ir.rule"]._compute_domain(self._name, "read")
            if domain:
                rule_fields = self._call_column_fields(domain)
        self.env["call.order"].flush_model(["partner_id", "booking_start"])
        self.env["call.partner.number"].flush_model(["partner_id", "number_e164"])
        active_test = bool(
            self._active_name and self.env.context.get("active_test", True)
        )
        if active_test:
            self.flush_model([self._active_name])
        rows = self.env.execute_query(
            self._call_lookup_sql(variants, active_test, rule_fields, by_number)
        )
        matches = [row[1] for row in rows] if by_number else None
        rows = [row[:1] + row[2:] for row in rows] if by_number else rows
        partners = self.browse(dict.fromkeys(row[0] for row in rows))
        if not self.env.su and partners:
            # what _fetch_query does: cache the values without overwriting
            # pending updates, so that the rule check reads nothing more
            first = {row[0]: row for row in rows}.values()
            for index, field in enumerate(rule_fields, 1):
                self.env.cache.insert_missing(
                    self.browse([row[0] for row in first]),
                    field,
                    [row[index] for row in first],
                )
            partners = partners._filtered_access("read")  # keeps the order
        if not by_number:
            return partners
        allowed = set(partners.ids)
        found = {"order": partners.ids}
        for row, e164 in zip(rows, matches, strict=True):
            if row[0] in allowed:
                found.setdefault(e164, []).append(row[0])
        return found

    @api.model
    def _call_column_fields(self, domain):
        """The plain column fields of this model that the leaves of
        ``domain`` test directly (first part of each path)."""
        fields = {}
        for leaf in domain:
            if not (isinstance(leaf, list | tuple) and isinstance(leaf[0], str)):
                continue
            field = self._fields.get(leaf[0].split(".", 1)[0])
            if (
                field
                and field.name != "id"
                and field.store
                and field.column_type
                and not field.translate
                and field.type != "binary"
            ):
                fields[field.name] = field
        return list(fields.values())

    @api.model
    def _call_lookup_sql(self, variants, active_test=True, fields=(), by_number=False):
        """SQL of the lookup: ids of the customers having one of ``variants``
        (then the columns of ``fields``), most recent order first (customers
        without orders last), then newest customer first; archived customers
        are left out when ``active_test``.  With ``by_number``, the matched
        variant comes second and a customer has one row per variant."""
        columns = [SQL.identifier("p", "id")]
        if by_number:
            columns.append(SQL.identifier("n", "number_e164"))
        columns += [SQL.identifier("p", field.name, to_flush=field) for field in fields]
        return SQL(
            """
            SELECT %(columns)s
              FROM call_partner_number n
              JOIN res_partner p ON p.id = n.partner_id
             WHERE n.number_e164 = ANY(%(variants)s)%(active)s
             GROUP BY p.id%(by_number)s
             ORDER BY (SELECT max(o.booking_start) FROM call_order o
                        WHERE o.partner_id = p.id) DESC NULLS LAST,
                      p.id DESC
            """,
            columns=SQL(", ").join(columns),
            variants=list(variants),
            active=(
                SQL(" AND %s", SQL.identifier("p", self._active_name))
                if active_test
                else SQL()
            ),
            by_number=SQL(", n.number_e164") if by_number else SQL(),
        )

    @api.model
    def _call_number_variants(self, number):
        region = self.env["call.partner.number"]._call_region()
        return caller_id_variants(number, region)

    @api.model
    def call_caller_card(self, number):
        """Everything an agent needs when ``number`` calls (JSON-able dict).

        :param number: the caller ID as received
        :return: ``{"number", "e164", "partners": [...]}``, partners most recent
            order first
        """
        return self._call_caller_card(number)

    @api.model
    def _call_caller_card(self, number, partners=None, cards=None):
        """:meth:`call_caller_card`; ``partners``: the customers having
        ``number``, when the caller looked them up already (with the same
        rights), most recent order first; ``cards``: their
        :meth:`_call_partner_cards`, when made with those of other numbers."""
        variants = self._call_number_variants(number)
        if partners is None:
            partners = (
                self._call_search_by_e164(variants) if variants else self.browse()
            )
        if cards is None:
            cards = partners._call_partner_cards()
        return {
            "number": number,
            "e164": variants[0] if variants else False,
            "partners": [cards[partner.id] for partner in partners],
        }

    def _call_partner_card(self):
        self.ensure_one()
        return self._call_partner_cards()[self.id]

    def _call_partner_cards(self):
        """``{partner id: card}`` of these customers, their orders read
        together: the last ones (``LAST_ORDERS`` each) and the open ones."""
        Order = self.env["call.order"]
        last = self._call_last_orders(LAST_ORDERS)
        open_orders = Order.search(
            [("partner_id", "in", self.ids), ("state", "in", Order.ACTIVE_STATES)]
        )
        # one read of every order shown, one translation of the states
        orders = Order.browse([i for ids in last.values() for i in ids]) | open_orders
        order_cards = orders._call_order_cards()
        open_by_partner = {}
        for order in open_orders:
            open_by_partner.setdefault(order.partner_id.id, []).append(order.id)
        return {
            partner.id: partner._call_partner_values(
                [order_cards[i] for i in last.get(partner.id, ())],
                [order_cards[i] for i in open_by_partner.get(partner.id, ())],
            )
            for partner in self
        }

    def _call_partner_values(self, last_orders, open_orders):
        return {
            "id": self.id,
            "display_name": self.display_name,
            "customer_ref": self.call_customer_ref or False,
            "company_name": self.company_name or self.parent_id.name or False,
            "owner": self.call_owner_user_id.name or False,
            "owner_id": self.call_owner_user_id.id or False,
            "note": self.call_note or False,
            "numbers": [
                {
                    "number": number.number,
                    "e164": number.number_e164 or False,
                    "kind": number.kind,
                }
                for number in self.call_number_ids
            ],
            "last_orders": last_orders,
            "open_orders": open_orders,
        }

    def _call_last_orders(self, count):
        """``{partner id: [order ids]}``: the ``count`` last orders of each
        of these customers (the orders' own order), in one query; the
        current user's access rights and record rules apply."""
        if not self:
            return {}
        Order = self.env["call.order"]
        query = Order._search([("partner_id", "in", self.ids)])
        table = query.table
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, partner_id FROM (
                    SELECT %(id)s AS id, %(partner)s AS partner_id,
                           row_number() OVER (PARTITION BY %(partner)s
                                              ORDER BY %(order)s) AS rank
                      FROM %(from)s
                     WHERE %(where)s
                ) ranked
                 WHERE rank <= %(count)s
                 ORDER BY partner_id, rank
                """,
                id=SQL.identifier(table, "id"),
                partner=Order._field_to_sql(table, "partner_id", query),
                order=Order._order_to_sql(Order._order, query),
                count=count,
                **{"from": query.from_clause, "where": query.where_clause},
            )
        )
        result = {}
        for order_id, partner_id in rows:
            result.setdefault(partner_id, []).append(order_id)
        return result

    @api.model
    def _call_bulk_create(self, vals_list, normalized_list):
        """Insert many customers at once (bulk import).

        The rows go in with multi-row INSERTs instead of one ORM ``create``
        each; defaults are those of the ORM and every stored computed field is
        then recomputed by the ORM in batch. Mail features are off, as with
        ``tracking_disable``. Access rights are checked first.

        :param vals_list: partner values (simple stored fields only)
        :param normalized_list: per partner ``{number field: NormalizedNumber}``
        :return: the new res.partner records, in the order of ``vals_list``
        """
        self.check_access("create")
        self.env["call.partner.number"].check_access("create")
        if not vals_list:
            return self.browse()
        refs = self._call_next_customer_refs(len(vals_list))
        rows = [
            dict(
                vals,
                call_customer_ref=ref,
                **self._call_bulk_computed_values(vals, normalized),
            )
            for vals, ref, normalized in zip(
                vals_list, refs, normalized_list, strict=True
            )
        ]
        partner_ids = bulk_insert(self, rows)
        # a customer without parent is its own commercial entity
        self.env.cr.execute(
            "UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)",
            [partner_ids],
        )
        number_rows = []
        for partner_id, vals, normalized in zip(
            partner_ids, rows, normalized_list, strict=True
        ):
            for sequence, (field_name, kind) in enumerate(NUMBER_FIELDS.items()):
                result = normalized.get(field_name)
                if result is None or not vals.get(field_name):
                    continue
                number_rows.append(
                    {
                        "partner_id": partner_id,
                        "sequence": sequence,
                        "number": vals[field_name],
                        "number_e164": result.e164 or False,
                        "is_valid": bool(result.e164 and result.is_valid),
                        "extension": result.extension or False,
                        "kind": kind,
                        "company_id": vals.get("company_id") or False,
                    }
                )
        bulk_insert(self.env["call.partner.number"], number_rows)
        self.env.invalidate_all()
        partners = self.browse(partner_ids)
        given = set().union(*rows) | {"commercial_partner_id"}
        for field in self._fields.values():
            # images derive from image_1920, which an import never sets: they stay
            # empty (computing them would read attachments one record at a time)
            if (
                field.store
                and field.compute
                and field.name not in given
                and field.type not in ("binary", "image")
            ):
                self.env.add_to_compute(field, partners)
        self.env.flush_all()
        return partners

    @api.model
    def _call_bulk_computed_values(self, vals, normalized):
        """Stored computed fields of a new top-level contact that the import
        already knows, so that the ORM need not recompute them one by one.

        Same results as res.partner's computes for a contact without parent:
        ``commercial_company_name`` is its company name, ``complete_name`` is
        "company, name", ``phone_sanitized`` the first valid of mobile/phone in
        E.164.
        """
        name = (vals.get("name") or "").strip()
        company_name = vals.get("company_name") or False
        sanitized = next(
            (
                normalized[fname].e164
                for fname in ("mobile", "phone")
                if fname in normalized
                and normalized[fname].e164
                and normalized[fname].is_valid
            ),
            False,
        )
        return {
            "commercial_company_name": company_name,
            "complete_name": f"{company_name}, {name}" if company_name else name,
            "phone_sanitized": sanitized,
            "call_has_invalid_number": any(
                not (result.e164 and result.is_valid) for result in normalized.values()
            ),
        }

    @api.model
    def _call_next_customer_refs(self, count):
        """``count`` new customer numbers from the "call.customer" sequence,
        drawn in one query when the sequence allows it."""
        if count <= 0:
            return []
        Sequence = self.env["ir.sequence"].sudo()
        sequence = Sequence.search(
            [
                ("code", "=", "call.customer"),
                ("company_id", "in", [self.env.company.id, False]),
            ],
            order="company_id",
            limit=1,
        )
        if (
            count == 1
            or sequence.implementation != "standard"
            or (sequence.use_date_range)
        ):
            return [Sequence.next_by_code("call.customer") for _i in range(count)]
        self.env.cr.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)",
            [f"ir_sequence_{sequence.id:03d}", count],
        )
        # same text as sequence.get_next_char(n), interpolated once
        prefix, suffix = sequence._get_prefix_suffix()
        return [
            f"{prefix}{row[0]:0{sequence.padding}d}{suffix}"
            for row in self.env.cr.fetchall()
        ]

    def _call_sync_numbers(self, field_names):
        """Rebuild the number rows of the given partner fields."""
        kinds = [NUMBER_FIELDS[name] for name in field_names]
        Number = self.env["call.partner.number"].sudo()
        if self.ids:
            Number.search(
                [("partner_id", "in", self.ids), ("kind", "in", kinds)]
            ).unlink()
        vals_list = []
        for partner in self:
            for sequence, (field_name, kind) in enumerate(NUMBER_FIELDS.items()):
                if field_name in field_names and partner[field_name]:
                    vals_list.append(
                        {
                            "partner_id": partner.id,
                            "number": partner[field_name],
                            "kind": kind,
                            "sequence": sequence,
                        }
                    )
        if vals_list:
            Number.create(vals_list)

    def _call_user_can_change_owner(self):
        return self.env.su or self.env.user.has_group(
            "call_ordering.call_ordering_group_manager"
        )

    def _call_check_owner_change(self, new_owner_id):
        if self._call_user_can_change_owner():
            return
        new_owner_id = new_owner_id or False
        if any(partner.call_owner_user_id.id != new_owner_id for partner in self):
            raise UserError(
                self.env._(
                    "Only a call centre manager may change the owner agent of a "
                    "customer."
                )
            )
