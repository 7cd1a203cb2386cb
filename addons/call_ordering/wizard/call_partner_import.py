import base64
import logging

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.phone_number import normalize_number
from ..tools.spreadsheet import SpreadsheetError, read_table, write_csv
from .call_partner_import_column import IMPORT_TARGETS

_logger = logging.getLogger(__name__)

MAX_ROWS = 500_000
PREVIEW_ROWS = 10
REPORT_ROWS = 50
WRITE_BATCH = 2000
PROGRESS_MIN_ROWS = 5000
PROGRESS_STEP = 10_000
NUMBER_TARGETS = (
    "call_preferred_number",
    "mobile",
    "phone",
    "call_home_phone",
    "call_work_phone",
)
# column titles recognised without manual mapping (lower case)
HEADER_ALIASES = {
    "name": ("name", "customer", "姓名", "名称", "客户", "客户名称", "联系人"),
    "mobile": ("mobile", "cell", "手机", "手机号", "手机号码", "移动电话"),
    "phone": ("phone", "telephone", "tel", "电话", "电话号码", "联系电话"),
    "call_home_phone": ("home phone", "home", "住宅电话", "家庭电话", "家庭号码"),
    "call_work_phone": ("work phone", "work", "office", "办公电话", "单位电话"),
    "call_preferred_number": ("preferred number", "preferred", "常用号码", "首选号码"),
    "company_name": ("company", "work unit", "单位", "公司", "工作单位"),
    "email": ("email", "e-mail", "邮箱", "电子邮件"),
    "street": ("address", "street", "地址", "家庭地址", "住址"),
    "city": ("city", "城市"),
    "call_gender": ("gender", "sex", "性别"),
    "call_note": ("note", "notes", "备注"),
}
GENDER_VALUES = {
    "male": "male",
    "m": "male",
    "男": "male",
    "female": "female",
    "f": "female",
    "女": "female",
    "other": "other",
    "其他": "other",
}


class CallPartnerImport(models.TransientModel):
    _name = "call.partner.import"
    _description = "Import Call Centre Customers"

    file_data = fields.Binary(string="File", attachment=False)
    file_name = fields.Char()
    state = fields.Selection(
        [("upload", "Upload"), ("mapping", "Mapping"), ("done", "Done")],
        default="upload",
        required=True,
    )
    duplicate_policy = fields.Selection(
        [
            ("skip", "Skip the row"),
            ("update", "Update the existing customer"),
            ("create", "Create a new customer anyway"),
        ],
        string="When a number already exists",
        default="skip",
        required=True,
    )
    column_ids = fields.One2many(
        "call.partner.import.column", "wizard_id", string="Columns"
    )
    preview_html = fields.Html(string="Preview", readonly=True, sanitize=False)
    report_html = fields.Html(string="Report", readonly=True, sanitize=False)
    row_count = fields.Integer(string="Rows", readonly=True)
    valid_count = fields.Integer(string="Valid Rows", readonly=True)
    error_count = fields.Integer(string="Rows With Errors", readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    error_file = fields.Binary(string="Rows Not Imported", readonly=True)
    error_file_name = fields.Char(readonly=True)

    def action_load(self):
        """Read the file, guess the column mapping and show a preview."""
        self.ensure_one()
        headers, rows = self._call_read_file(limit=PREVIEW_ROWS)
        self.column_ids.unlink()
        self.write(
            {
                "state": "mapping",
                "row_count": 0,
                "column_ids": [
                    fields.Command.create(
                        {
                            "sequence": index,
                            "header": header or self.env._("Column %s", index + 1),
                            "sample": rows[0][index] if rows else False,
                            "target": self._call_guess_target(header),
                        }
                    )
                    for index, header in enumerate(headers)
                ],
                "preview_html": self._call_preview_html(headers, rows[:PREVIEW_ROWS]),
                "report_html": False,
                "error_file": False,
            }
        )
        return self._call_reopen()

    def action_check(self):
        """Validate every row and show the report; nothing is written."""
        self.ensure_one()
        headers, rows = self._call_read_file()
        result = self._call_validate(headers, rows)
        self._call_store_report(headers, rows, result, written=False)
        return self._call_reopen()

    def action_import(self):
        """Validate every row, then write the valid ones in this transaction."""
        self.ensure_one()
        headers, rows = self._call_read_file()
        result = self._call_validate(headers, rows)
        counts = self._call_write(result)
        self._call_store_report(headers, rows, result, written=True, counts=counts)
        self.state = "done"
        return self._call_reopen()

    def _call_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": self.env.context,
        }

    def _call_read_file(self, limit=None):
        """The file's ``(headers, rows)``; only the first ``limit`` rows when
        given (preview)."""
        if not self.file_data:
            raise UserError(self.env._("Please choose a file to import."))
        data = base64.b64decode(self.file_data)
        try:
            return read_table(
                data, self.file_name or "", max_rows=MAX_ROWS, limit=limit
            )
        except SpreadsheetError as error:
            raise UserError(self._call_file_error_message(error)) from error

    def _call_file_error_message(self, error):
        messages = {
            "empty": self.env._("The file is empty."),
            "unsupported": self.env._(
                "Unsupported file type. Please use an .xlsx, .xls or .csv file."
            ),
            "corrupt": self.env._(
                "The file could not be read: it is damaged or not a real "
                ".xlsx, .xls or .csv file (%s). Nothing was imported.",
                error.detail,
            ),
            "encoding": self.env._(
                "The CSV file is neither UTF-8 nor GB18030 text. Save it as "
                "UTF-8 CSV and try again."
            ),
            "no_rows": self.env._(
                "The file has no data rows: it needs a header row and at least "
                "one customer."
            ),
            "too_many_rows": self.env._(
                "The file has more than %s rows. Split it into smaller files.",
                MAX_ROWS,
            ),
        }
        return messages.get(error.code, messages["corrupt"])

    @api.model
    def _call_guess_target(self, header):
        key = (header or "").strip().lower()
        for target, aliases in HEADER_ALIASES.items():
            if key in aliases:
                return target
        return False

    def _call_mapping(self, width):
        mapping = {}
        for column in self.column_ids:
            if column.target and column.sequence < width:
                if column.target in mapping:
                    raise UserError(
                        self.env._(
                            "The customer field %s is mapped to two columns.",
                            dict(IMPORT_TARGETS)[column.target],
                        )
                    )
                mapping[column.target] = column.sequence
        if "name" not in mapping:
            raise UserError(self.env._("Please map a column to the customer name."))
        if not set(mapping) & set(NUMBER_TARGETS):
            raise UserError(self.env._("Please map at least one phone number column."))
        return mapping

    def _call_validate(self, headers, rows):
        """Check every row.

        :return: dict with ``create`` (list of (row index, vals)), ``update``
            (list of (row index, partner id, vals)), ``errors`` ({row index:
            message}) and ``skipped`` ({row index: message})
        """
        mapping = self._call_mapping(len(headers))
        region = self.env["call.partner.number"]._call_region()
        parsed = []
        errors = {}
        seen = {}
        for index, row in enumerate(rows):
            if index and index % PROGRESS_STEP == 0:
                self._call_progress("check", index, len(rows))
            vals, normalized, message = self._call_parse_row(row, mapping, region)
            numbers = list(dict.fromkeys(n.e164 for n in normalized.values()))
            if not message:
                duplicate_of = next((seen[n] for n in numbers if n in seen), None)
                if duplicate_of is not None:
                    message = self.env._(
                        "Duplicate of row %s in the file", duplicate_of + 2
                    )
            if message:
                errors[index] = message
                continue
            for number in numbers:
                seen[number] = index
            parsed.append((index, vals, numbers, normalized))
        return self._call_apply_policy(parsed, errors)

    def _call_parse_row(self, row, mapping, region):
        vals = {
            target: row[column] for target, column in mapping.items() if row[column]
        }
        if not vals.get("name"):
            return vals, {}, self.env._("Missing name")
        normalized = {}
        for target in NUMBER_TARGETS:
            if not vals.get(target):
                continue
            result = normalize_number(vals[target], region)
            if not result.e164:
                return (
                    vals,
                    {},
                    self.env._(
                        "Unparsable number %(number)s in column %(column)s",
                        number=vals[target],
                        column=dict(IMPORT_TARGETS)[target],
                    ),
                )
            normalized[target] = result
        if not normalized:
            return vals, {}, self.env._("No phone number")
        if "call_gender" in vals:
            gender = GENDER_VALUES.get(vals["call_gender"].strip().lower())
            if not gender:
                return vals, {}, self.env._("Unknown gender %s", vals["call_gender"])
            vals["call_gender"] = gender
        return vals, normalized, False

    def _call_apply_policy(self, parsed, errors):
        existing = self._call_existing_numbers(
            [number for _index, _vals, numbers, _norm in parsed for number in numbers]
        )
        result = {"create": [], "update": [], "errors": errors, "skipped": {}}
        policy = self.duplicate_policy
        for index, vals, numbers, normalized in parsed:
            partner_ids = sorted(
                {pid for number in numbers for pid in existing.get(number, ())}
            )
            if not partner_ids or policy == "create":
                result["create"].append((index, vals, normalized))
            elif policy == "skip":
                result["skipped"][index] = self.env._(
                    "Already in the database (skipped)"
                )
            elif len(partner_ids) > 1:
                errors[index] = self.env._(
                    "The number matches %s customers; cannot choose which to update",
                    len(partner_ids),
                )
            else:
                result["update"].append((index, partner_ids[0], vals))
        return result

    def _call_existing_numbers(self, numbers):
        """``{e164: [partner ids]}`` of customers the user may see."""
        if not numbers:
            return {}
        Number = self.env["call.partner.number"]
        Number.flush_model(["number_e164", "partner_id"])
        self.env.cr.execute(
            """SELECT number_e164, array_agg(DISTINCT partner_id)
                 FROM call_partner_number
                WHERE number_e164 = ANY(%s)
             GROUP BY number_e164""",
            [list(set(numbers))],
        )
        rows = self.env.cr.fetchall()
        visible = set(
            self.env["res.partner"]
            .browse({pid for _number, pids in rows for pid in pids})
            ._filtered_access("read")
            .ids
        )
        return {
            number: [pid for pid in pids if pid in visible]
            for number, pids in rows
            if visible.intersection(pids)
        }

    def _call_write(self, result):
        Partner = self.env["res.partner"].with_context(
            tracking_disable=True, mail_create_nolog=True
        )
        to_create = result["create"]
        total = len(to_create) + len(result["update"])
        done = 0
        for start in range(0, len(to_create), WRITE_BATCH):
            batch = to_create[start : start + WRITE_BATCH]
            Partner._call_bulk_create(
                [
                    dict(
                        vals,
                        company_id=self.env.company.id,
                        call_owner_user_id=self.env.uid,
                    )
                    for _index, vals, _normalized in batch
                ],
                [normalized for _index, _vals, normalized in batch],
            )
            done += len(batch)
            if done % PROGRESS_STEP < WRITE_BATCH:
                self._call_progress("write", done, total)
        for _index, partner_id, vals in result["update"]:
            Partner.browse(partner_id).write(vals)
            done += 1
            if done % PROGRESS_STEP == 0:
                self._call_progress("write", done, total)
        return {
            "created": len(to_create),
            "updated": len(result["update"]),
            "skipped": len(result["skipped"]),
        }

    def _call_progress(self, stage, done, total):
        """Tell the user how far a large import is.

        The import runs in one transaction (so a failure writes nothing); the
        progress message goes through a separate short cursor that commits only
        the bus notification.
        """
        if total < PROGRESS_MIN_ROWS:
            return
        try:
            self._call_send_progress(stage, done, total)
        except Exception:  # progress is best effort and must never stop an import
            _logger.warning("could not report the import progress", exc_info=True)

    def _call_send_progress(self, stage, done, total):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, self.env.uid, self.env.context)
            if stage == "check":
                message = env._(
                    "Checking: %(done)s of %(total)s rows", done=done, total=total
                )
            else:
                message = env._(
                    "Writing: %(done)s of %(total)s customers", done=done, total=total
                )
            env.user.partner_id._bus_send(
                "simple_notification",
                {
                    "title": env._("Customer import"),
                    "message": message,
                    "type": "info",
                    "sticky": False,
                },
            )

    def _call_store_report(self, headers, rows, result, written, counts=None):
        counts = counts or {}
        rejected = {**result["skipped"], **result["errors"]}
        error_rows = [
            rows[index] + [message] for index, message in sorted(rejected.items())
        ]
        valid = len(result["create"]) + len(result["update"])
        vals = {
            "row_count": len(rows),
            "valid_count": valid,
            "error_count": len(result["errors"]),
            "skipped_count": len(result["skipped"]),
            "created_count": counts.get("created", 0),
            "updated_count": counts.get("updated", 0),
            "report_html": self._call_report_html(rejected, valid, written),
            "error_file": False,
            "error_file_name": False,
        }
        if error_rows:
            data = write_csv([*headers, self.env._("Error")], error_rows)
            base = (self.file_name or "customers").rsplit(".", 1)[0]
            vals["error_file"] = base64.b64encode(data)
            vals["error_file_name"] = f"{base}-not-imported.csv"
        self.write(vals)

    def _call_preview_html(self, headers, rows):
        head = Markup("").join(Markup("<th>%s</th>") % header for header in headers)
        body = Markup("").join(
            Markup("<tr>%s</tr>")
            % Markup("").join(Markup("<td>%s</td>") % value for value in row)
            for row in rows
        )
        return Markup(
            '<table class="table table-sm table-bordered o_call_import_preview">'
            "<thead><tr>%s</tr></thead><tbody>%s</tbody></table>"
        ) % (head, body)

    def _call_report_html(self, rejected, valid, written):
        if written:
            summary = self.env._(
                "%(valid)s rows imported, %(rejected)s rows not imported.",
                valid=valid,
                rejected=len(rejected),
            )
        else:
            summary = self.env._(
                "%(valid)s rows are ready to import, %(rejected)s rows will not be "
                "imported.",
                valid=valid,
                rejected=len(rejected),
            )
        lines = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td></tr>") % (index + 2, message)
            for index, message in sorted(rejected.items())[:REPORT_ROWS]
        )
        table = Markup("")
        if lines:
            table = Markup(
                '<table class="table table-sm"><thead><tr><th>%s</th><th>%s</th>'
                "</tr></thead><tbody>%s</tbody></table>"
            ) % (self.env._("Row"), self.env._("Problem"), lines)
        return Markup("<p>%s</p>%s") % (escape(summary), table)
