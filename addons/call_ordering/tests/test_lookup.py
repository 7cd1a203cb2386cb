from odoo.tests import tagged

from .common import CallOrderingCase


@tagged("post_install", "-at_install")
class TestLookup(CallOrderingCase):
    def test_every_caller_id_form_finds_the_customer(self):
        Partner = self.env["res.partner"]
        for caller_id in (
            "+8613812345678",
            "008613812345678",
            "8613812345678",
            "13812345678",
            "138-1234-5678",
        ):
            with self.subTest(caller_id=caller_id):
                found = Partner.with_company(self.company)._call_search_by_number(
                    caller_id
                )
                self.assertIn(self.zhang, found)

    def test_shared_number_returns_all_most_recent_order_first(self):
        Partner = self.env["res.partner"]
        # zhang and li share the home number 010-8765-4321 in two spellings
        self._order(self.zhang, "2026-01-01 12:00:00")
        self._order(self.li, "2026-03-01 12:00:00")
        found = Partner._call_search_by_number("+86 10 8765 4321")
        self.assertEqual(found.ids, [self.li.id, self.zhang.id])
        self._order(self.zhang, "2026-05-01 12:00:00")
        found = Partner._call_search_by_number("010 8765 4321 转 8")
        self.assertEqual(found.ids, [self.zhang.id, self.li.id])

    def test_customer_without_orders_comes_last(self):
        self._order(self.li, "2026-03-01 12:00:00")
        found = self.env["res.partner"]._call_search_by_number("01087654321")
        self.assertEqual(found[-1], self.zhang)

    def test_unknown_or_garbage_number_finds_nobody(self):
        Partner = self.env["res.partner"]
        self.assertFalse(Partner._call_search_by_number("13700000000"))
        self.assertFalse(Partner._call_search_by_number("not a number"))
        self.assertFalse(Partner._call_search_by_number(False))

    def test_lookup_respects_company_rules(self):
        found_by_agent = (
            self.env["res.partner"]
            .with_user(self.agent)
            ._call_search_by_number("13812345678")
        )
        self.assertEqual(found_by_agent, self.zhang)
        found_by_other = (
            self.env["res.partner"]
            .with_user(self.other_agent)
            ._call_search_by_number("13812345678")
        )
        self.assertEqual(found_by_other, self.wang_other)

    def test_caller_card(self):
        order = self._order(
            self.zhang,
            "2026-06-01 12:00:00",
            party_size=6,
            requested_resource="Peony room",
            amount=88.5,
        )
        old = self._order(self.zhang, "2025-06-01 12:00:00")
        old.action_cancel()
        card = (
            self.env["res.partner"]
            .with_user(self.agent)
            .call_caller_card("+86 138 1234 5678")
        )
        self.assertEqual(card["number"], "+86 138 1234 5678")
        self.assertEqual(card["e164"], "+8613812345678")
        self.assertEqual(len(card["partners"]), 1)
        info = card["partners"][0]
        self.assertEqual(info["id"], self.zhang.id)
        self.assertEqual(info["customer_ref"], self.zhang.call_customer_ref)
        self.assertEqual(info["company_name"], "Beijing Hua Xin")
        self.assertEqual(info["owner_id"], self.agent.id)
        self.assertEqual(info["note"], "Likes the window table")
        self.assertEqual(len(info["numbers"]), 2)
        self.assertEqual([o["id"] for o in info["last_orders"]], [order.id, old.id])
        self.assertEqual([o["id"] for o in info["open_orders"]], [order.id])
        first = info["open_orders"][0]
        self.assertEqual(first["booking_start"], "2026-06-01 12:00:00")
        self.assertEqual(first["state"], "booked")
        self.assertEqual(first["state_label"], "Booked")
        self.assertEqual(first["party_size"], 6)
        self.assertEqual(first["resource"], "Peony room")
        self.assertEqual(first["amount"], 88.5)

    def test_caller_card_for_unknown_number(self):
        card = self.env["res.partner"].call_caller_card("garbage")
        self.assertEqual(card, {"number": "garbage", "e164": False, "partners": []})

    def test_last_orders_are_limited_to_five(self):
        for day in range(1, 8):
            self._order(self.li, f"2026-02-0{day} 12:00:00")
        card = self.env["res.partner"].call_caller_card("13900001111")
        self.assertEqual(len(card["partners"][0]["last_orders"]), 5)
        self.assertEqual(
            card["partners"][0]["last_orders"][0]["booking_start"],
            "2026-02-07 12:00:00",
        )

    def test_search_view_field_finds_by_number(self):
        found = self.env["res.partner"].search(
            [("call_number_search", "ilike", "0086 13812345678")]
        )
        self.assertIn(self.zhang, found)
        self.assertIn(self.wang_other, found)
        self.assertNotIn(self.li, found)

    def test_archived_customer_is_not_returned(self):
        self.li.active = False
        found = self.env["res.partner"]._call_search_by_number("010-8765-4321")
        self.assertEqual(found, self.zhang)

    def test_archived_customer_is_returned_without_active_test(self):
        self.li.active = False
        self._order(self.li, "2026-03-01 12:00:00")
        found = (
            self.env["res.partner"]
            .with_context(active_test=False)
            ._call_search_by_number("010-8765-4321")
        )
        self.assertEqual(found.ids, [self.li.id, self.zhang.id])

    def test_lookup_as_superuser_and_pending_changes(self):
        # an unsaved (pending) archive and a new order are seen by the lookup
        self.zhang.active = False
        found = (
            self.env["res.partner"]
            .with_user(self.agent)
            ._call_search_by_number("010 8765 4321")
        )
        self.assertEqual(found, self.li)
        self.zhang.active = True
        self._order(self.zhang, "2026-09-01 12:00:00")
        found = self.env["res.partner"].sudo()._call_search_by_number("01087654321")
        self.assertEqual(found.ids, [self.zhang.id, self.li.id])

    def test_many_numbers_at_once_find_what_each_lookup_finds(self):
        self._order(self.li, "2026-03-01 12:00:00")
        numbers = [
            "+86 10 8765 4321",  # zhang and li, li ordered last
            "010 8765 4321 转 8",  # the same customers, another spelling
            "13812345678",  # zhang here, wang in the other company
            "13700000000",  # nobody
            "not a number",
            "",
        ]
        for user in (self.agent, self.other_agent, self.env.ref("base.user_root")):
            Partner = self.env["res.partner"].with_user(user)
            with self.subTest(user=user.login):
                found = Partner._call_search_by_numbers(numbers)
                self.assertEqual(set(found), set(numbers))
                for number in numbers:
                    self.assertEqual(
                        found[number].ids,
                        Partner._call_search_by_number(number).ids,
                        number,
                    )
        found = (
            self.env["res.partner"]
            .with_user(self.agent)
            ._call_search_by_numbers(numbers)
        )
        self.assertEqual(found["+86 10 8765 4321"].ids, [self.li.id, self.zhang.id])
        self.assertEqual(found["13812345678"], self.zhang)

    def test_cards_of_many_customers_read_their_orders_together(self):
        for day in range(1, 8):
            self._order(self.li, f"2026-02-0{day} 12:00:00")
        self._order(self.li, "2026-02-04 12:00:00").action_cancel()
        self._order(self.zhang, "2026-01-01 12:00:00")
        self._order(self.wang_other, "2026-01-02 12:00:00")
        customers = self.li | self.zhang | self.wang_other
        for user in (self.agent, self.other_agent):
            Order = self.env["call.order"].with_user(user)
            visible = customers.with_user(user)._filtered_access("read")
            with self.subTest(user=user.login):
                cards = visible._call_partner_cards()
                self.assertEqual(set(cards), set(visible.ids))
                for partner in visible:
                    last = Order.search([("partner_id", "=", partner.id)], limit=5)
                    open_ = Order.search(
                        [
                            ("partner_id", "=", partner.id),
                            ("state", "in", Order.ACTIVE_STATES),
                        ]
                    )
                    card = cards[partner.id]
                    self.assertEqual([o["id"] for o in card["last_orders"]], last.ids)
                    self.assertEqual([o["id"] for o in card["open_orders"]], open_.ids)
        self.assertEqual(len(cards[self.wang_other.id]["last_orders"]), 1)
        # the cards of three customers: the queries of one
        counts = []
        for partners in (self.zhang, customers):
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            self.env["res.partner"].browse(partners.ids)._call_partner_cards()
            counts.append(self.env.cr.sql_log_count - start)
        self.assertEqual(counts[0], counts[1])
