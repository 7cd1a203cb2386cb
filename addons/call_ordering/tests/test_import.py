import base64
import csv
import io

import openpyxl
import xlwt

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.bus.models.bus import channel_with_db, json_dump

from ..wizard import call_partner_import
from .common import CallOrderingCase

HEADERS = ("姓名", "手机", "Home Phone", "单位", "性别")


def xlsx_bytes(rows, headers=HEADERS):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls_bytes(rows, headers=HEADERS):
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Customers")
    for col, value in enumerate(headers):
        sheet.write(0, col, value)
    for index, row in enumerate(rows, 1):
        for col, value in enumerate(row):
            sheet.write(index, col, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@tagged("post_install", "-at_install")
class TestImport(CallOrderingCase):
    def _wizard(self, data, name, policy="skip", user=None):
        wizard = (
            self.env["call.partner.import"]
            .with_user(user or self.agent)
            .create(
                {
                    "file_data": base64.b64encode(data),
                    "file_name": name,
                    "duplicate_policy": policy,
                }
            )
        )
        wizard.action_load()
        return wizard

    def _count(self):
        return self.env["res.partner"].search_count([]), self.env[
            "call.partner.number"
        ].search_count([])

    def test_good_xlsx_file_is_imported(self):
        rows = [
            ["赵六", "13700001111", "010-6000-1111", "新华书店", "男"],
            ["钱七", 13700002222, "", "", "女"],
            ["孙八", "+86 137 0000 3333", "", "北京大学", ""],
        ]
        wizard = self._wizard(xlsx_bytes(rows), "customers.xlsx")
        self.assertEqual(wizard.state, "mapping")
        targets = wizard.column_ids.mapped("target")
        self.assertEqual(
            targets,
            ["name", "mobile", "call_home_phone", "company_name", "call_gender"],
        )
        self.assertIn("赵六", wizard.preview_html)
        wizard.action_import()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(wizard.row_count, 3)
        self.assertEqual(wizard.created_count, 3)
        self.assertEqual(wizard.error_count, 0)
        self.assertFalse(wizard.error_file)
        qian = self.env["res.partner"]._call_search_by_number("+8613700002222")
        self.assertEqual(qian.name, "钱七")
        self.assertEqual(qian.call_gender, "female")
        self.assertRegex(qian.call_customer_ref, r"^C\d{6}$")
        refs = (
            self.env["res.partner"]
            .search([("create_uid", "=", self.agent.id)])
            .mapped("call_customer_ref")
        )
        self.assertEqual(len(set(refs)), 3)
        self.assertEqual(qian.call_owner_user_id, self.agent)
        # bulk-inserted rows carry the ORM's defaults and computed fields
        self.assertEqual(qian.company_id, self.company)
        self.assertEqual(qian.commercial_partner_id, qian)
        self.assertEqual(qian.complete_name, "钱七")
        self.assertEqual(qian.type, "contact")
        self.assertTrue(qian.active)
        self.assertEqual(qian.phone_sanitized, "+8613700002222")
        self.assertFalse(qian.call_has_invalid_number)
        self.assertEqual(qian.create_uid, self.agent)
        self.assertEqual(qian.call_number_ids.kind, "mobile")
        self.assertEqual(qian.call_number_ids.company_id, self.company)
        zhao = self.env["res.partner"]._call_search_by_number("01060001111")
        self.assertEqual(zhao.company_name, "新华书店")
        self.assertEqual(zhao.complete_name, "新华书店, 赵六")
        self.assertEqual(zhao.commercial_company_name, "新华书店")
        self.assertEqual(zhao.phone_sanitized, "+8613700001111")
        # what the ORM computes for the same values
        twin = self.env["res.partner"].create(
            {"name": "赵六", "company_name": "新华书店", "mobile": "13700001111"}
        )
        for fname in ("complete_name", "commercial_company_name", "phone_sanitized"):
            self.assertEqual(zhao[fname], twin[fname], fname)

    def test_bad_rows_are_reported_and_downloadable(self):
        rows = [
            ["Good", "13700001111", "", "", ""],
            ["", "13700002222", "", "", ""],
            ["Bad Number", "call me maybe", "", "", ""],
            ["Twin", "+8613700001111", "", "", ""],
            ["Existing", "138 1234 5678", "", "", ""],
            ["Odd Gender", "13700004444", "", "", "unknown"],
        ]
        before = self._count()
        wizard = self._wizard(csv_bytes(rows), "customers.csv")
        wizard.action_check()
        self.assertEqual(self._count(), before, "checking writes nothing")
        self.assertEqual(wizard.valid_count, 1)
        self.assertEqual(wizard.error_count, 4)
        self.assertEqual(wizard.skipped_count, 1)
        self.assertIn("Missing name", wizard.report_html)
        self.assertIn("Unparsable number call me maybe", wizard.report_html)
        self.assertIn("Duplicate of row 2 in the file", wizard.report_html)
        wizard.action_import()
        self.assertEqual(wizard.created_count, 1)
        error_file = base64.b64decode(wizard.error_file).decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(error_file)))
        self.assertEqual(lines[0], [*HEADERS, "Error"])
        self.assertEqual(len(lines), 6)
        self.assertEqual(lines[1][0], "")
        self.assertIn("Already in the database", error_file)
        self.assertTrue(wizard.error_file_name.endswith("-not-imported.csv"))

    def test_duplicate_policy_update_and_create(self):
        rows = [["张三 (new)", "13812345678", "", "New Unit", ""]]
        wizard = self._wizard(csv_bytes(rows), "c.csv", policy="update")
        wizard.action_import()
        self.assertEqual(wizard.updated_count, 1)
        self.assertEqual(self.zhang.name, "张三 (new)")
        self.assertEqual(self.zhang.company_name, "New Unit")
        wizard = self._wizard(csv_bytes(rows), "c.csv", policy="create")
        wizard.action_import()
        self.assertEqual(wizard.created_count, 1)
        found = (
            self.env["res.partner"]
            .with_user(self.agent)
            ._call_search_by_number("13812345678")
        )
        self.assertEqual(len(found), 2)

    def test_update_refused_when_number_is_shared(self):
        rows = [["Shared", "010 8765 4321", "", "", ""]]
        wizard = self._wizard(csv_bytes(rows), "c.csv", policy="update")
        wizard.action_import()
        self.assertEqual(wizard.updated_count, 0)
        self.assertIn("matches 2 customers", wizard.report_html)

    def test_corrupt_file_writes_nothing(self):
        before = self._count()
        broken = xlsx_bytes([["A", "13700001111", "", "", ""]])[:300]
        for data, name, message in (
            (broken, "customers.xlsx", "could not be read"),
            (b"\x89PNG\r\n\x1a\n\x00\x00binary", "photo.csv", "could not be read"),
            (b"%PDF-1.4 hello", "report.pdf", "Unsupported file type"),
            (b"", "empty.csv", "Please choose a file"),
            (b"just a title\n", "title.csv", "no data rows"),
        ):
            with self.subTest(name=name):
                wizard = self.env["call.partner.import"].create(
                    {"file_data": base64.b64encode(data), "file_name": name}
                )
                with self.assertRaisesRegex(UserError, message):
                    wizard.action_load()
        self.assertEqual(self._count(), before)

    def test_missing_mapping_is_refused(self):
        rows = [["Someone", "13700001111"]]
        wizard = self._wizard(csv_bytes(rows, headers=["Who", "Digits"]), "c.csv")
        with self.assertRaisesRegex(UserError, "customer name"):
            wizard.action_import()
        wizard.column_ids[0].target = "name"
        with self.assertRaisesRegex(UserError, "phone number column"):
            wizard.action_import()
        wizard.column_ids[1].target = "mobile"
        wizard.action_import()
        self.assertEqual(wizard.created_count, 1)

    def test_xls_file_is_imported(self):
        rows = [
            ["周九", 13700005555.0, "", "", ""],
            ["吴十", "13700006666", "", "", ""],
        ]
        wizard = self._wizard(xls_bytes(rows), "old.xls")
        wizard.action_import()
        self.assertEqual(wizard.created_count, 2)
        found = self.env["res.partner"]._call_search_by_number("13700005555")
        self.assertEqual(found.name, "周九")

    def test_gb18030_csv_with_semicolons(self):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(["姓名", "电话"])
        writer.writerow(["郑十一", "010-6123-4567"])
        data = buffer.getvalue().encode("gb18030")
        wizard = self._wizard(data, "legacy.csv")
        wizard.action_import()
        self.assertEqual(wizard.created_count, 1)
        found = self.env["res.partner"]._call_search_by_number("+861061234567")
        self.assertEqual(found.name, "郑十一")

    def test_progress_is_reported_for_large_files(self):
        self.patch(call_partner_import, "PROGRESS_MIN_ROWS", 3)
        self.patch(call_partner_import, "PROGRESS_STEP", 2)
        rows = [[f"P{i}", str(13700010000 + i), "", "", ""] for i in range(6)]
        # a user committed in the database: the progress cursor must see it
        admin = self.env.ref("base.user_admin")
        wizard = self._wizard(csv_bytes(rows), "p.csv", user=admin)
        channel = json_dump(channel_with_db(self.env.cr.dbname, admin.partner_id))
        wizard.action_import()
        self.assertEqual(wizard.created_count, 6)
        # progress travels through its own committed transaction, so that the
        # user sees it while the import itself is not committed yet
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT id, message FROM bus_bus WHERE channel = %s ORDER BY id",
                [channel],
            )
            found = cr.fetchall()
            cr.execute(
                "DELETE FROM bus_bus WHERE id = ANY(%s)", [[r[0] for r in found]]
            )
        text = " ".join(message for _id, message in found)
        self.assertIn("Checking: 2 of 6 rows", text)
        self.assertIn("Checking: 4 of 6 rows", text)
        self.assertIn("Writing: 6 of 6 customers", text)
