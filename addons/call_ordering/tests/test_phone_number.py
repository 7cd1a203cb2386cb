from odoo.tests import tagged

from ..tools.phone_number import caller_id_variants, normalize_number
from .common import CallOrderingCase


@tagged("post_install", "-at_install")
class TestPhoneNumber(CallOrderingCase):
    def test_number_formats_normalise_to_e164(self):
        table = [
            # typed, (e164, is_valid, extension)
            ("+8613812345678", ("+8613812345678", True, None)),
            ("008613812345678", ("+8613812345678", True, None)),
            ("13812345678", ("+8613812345678", True, None)),
            ("138 1234 5678", ("+8613812345678", True, None)),
            ("138-1234-5678", ("+8613812345678", True, None)),
            ("010-8765-4321", ("+861087654321", True, None)),
            ("01087654321 ext 123", ("+861087654321", True, "123")),
            ("010-87654321转123", ("+861087654321", True, "123")),
            ("(010) 8765 4321 x 9", ("+861087654321", True, "9")),
            ("+1 650 253 0000", ("+16502530000", True, None)),
            ("garbage", (None, False, None)),
            ("12", (None, False, None)),
            ("", (None, False, None)),
            (None, (None, False, None)),
        ]
        for typed, expected in table:
            with self.subTest(typed=typed):
                self.assertEqual(tuple(normalize_number(typed, "CN")), expected)

    def test_region_decides_national_numbers(self):
        self.assertEqual(normalize_number("6502530000", "US").e164, "+16502530000")
        self.assertEqual(normalize_number("13812345678", "CN").e164, "+8613812345678")

    def test_national_numbers_read_in_the_company_country(self):
        """The region of a lookup follows the current company's address (read
        with one query), the customer's company, then the customer."""
        Number = self.env["call.partner.number"]
        self.assertEqual(Number._call_region(), "CN")
        self.company.country_id = self.env.ref("base.us")  # not flushed yet
        self.assertEqual(Number._call_region(), "US")
        self.assertIn(
            "+16502530000", self.env["res.partner"]._call_number_variants("6502530000")
        )
        self.other_company.partner_id.country_id = self.env.ref("base.fr")
        customer = self.env["res.partner"].create(
            {"name": "Client", "company_id": self.other_company.id}
        )
        self.assertEqual(Number._call_region(customer), "FR")
        self.other_company.partner_id.country_id = False
        self.assertEqual(
            Number._call_region(customer), "US", "no company country: the current"
        )
        customer.country_id = self.cn
        self.assertEqual(Number._call_region(customer), "CN")
        self.company.partner_id.country_id = False
        self.assertEqual(Number._call_region(), "CN", "no country: CN")

    def test_caller_id_without_plus_is_also_read_as_international(self):
        self.assertEqual(caller_id_variants("8613812345678"), ["+8613812345678"])
        self.assertIn("+8613812345678", caller_id_variants("008613812345678"))
        self.assertEqual(caller_id_variants("nonsense"), [])

    def test_partner_numbers_are_indexed_rows(self):
        rows = self.zhang.call_number_ids
        self.assertEqual(
            sorted(rows.mapped("number_e164")), ["+861087654321", "+8613812345678"]
        )
        self.assertEqual(
            set(rows.mapped("kind")), {"mobile", "home"}, "one row per number field"
        )
        self.assertTrue(all(rows.mapped("is_valid")))
        self.assertFalse(self.zhang.call_has_invalid_number)

    def test_unparsable_number_is_kept_and_flagged(self):
        partner = self.env["res.partner"].create(
            {"name": "Typo", "mobile": "13812345678", "phone": "ask the neighbour"}
        )
        bad = partner.call_number_ids.filtered(lambda n: n.kind == "phone")
        self.assertEqual(bad.number, "ask the neighbour")
        self.assertFalse(bad.number_e164)
        self.assertFalse(bad.is_valid)
        self.assertTrue(partner.call_has_invalid_number)

    def test_changing_a_number_rewrites_its_row(self):
        self.li.mobile = "13911112222"
        mobile = self.li.call_number_ids.filtered(lambda n: n.kind == "mobile")
        self.assertEqual(mobile.number_e164, "+8613911112222")
        self.li.mobile = False
        self.assertFalse(self.li.call_number_ids.filtered(lambda n: n.kind == "mobile"))

    def test_customer_gets_a_reference(self):
        self.assertTrue(self.zhang.call_customer_ref)
        self.assertNotEqual(self.zhang.call_customer_ref, self.li.call_customer_ref)

    def test_number_index_exists(self):
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'call_partner_number'"
        )
        definitions = " ".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("(number_e164)", definitions)
