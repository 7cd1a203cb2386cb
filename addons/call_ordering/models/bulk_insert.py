"""Multi-row INSERT of simple records, for bulk imports (no ORM per record)."""

from odoo import fields
from odoo.tools import SQL, clean_context

INSERT_PAGE = 1000


def bulk_insert(model, rows):
    """Insert ``rows`` (lists of stored, non-relational-list values) into
    ``model``'s table with the ORM's defaults, in pages of multi-row INSERTs.

    Stored computed fields are *not* computed here; the caller marks them for
    recomputation. Access rights are the caller's business.

    :return: the new ids, in the order of ``rows``
    """
    if not rows:
        return []
    model = model.with_context(clean_context(model.env.context))
    column_fields = {
        name: field
        for name, field in model._fields.items()
        if field.store and field.column_type and name != "id"
    }
    defaults = {
        name: value
        for name, value in model.default_get(list(column_fields)).items()
        if name in column_fields
    }
    now = fields.Datetime.now()
    uid = model.env.uid
    magic = {"create_uid": uid, "write_uid": uid, "create_date": now, "write_date": now}
    names = sorted(set(defaults) | set(magic) | set().union(*rows))
    unknown = [name for name in names if name not in column_fields]
    if unknown:
        raise ValueError(f"not stored columns of {model._name}: {unknown}")
    table_fields = [column_fields[name] for name in names]
    values = []
    for row in rows:
        full = {**defaults, **magic, **row}
        values.append(
            [
                field.convert_to_column_insert(full.get(field.name), model, full)
                for field in table_fields
            ]
        )
    columns = SQL(", ").join(SQL.identifier(name) for name in names)
    placeholder = "(" + ", ".join(["%s"] * len(names)) + ")"
    ids = []
    for start in range(0, len(values), INSERT_PAGE):
        page = values[start : start + INSERT_PAGE]
        model.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s RETURNING id",
                SQL.identifier(model._table),
                columns,
                SQL(", ").join(SQL(placeholder, *row) for row in page),
            )
        )
        ids.extend(row[0] for row in model.env.cr.fetchall())
    return ids
