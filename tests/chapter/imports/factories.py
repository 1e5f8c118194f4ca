"""Import files for the tests: owner+vehicle and visit rows, written as CSV or XLSX."""

from __future__ import annotations

import csv
import io
import itertools
import random
from datetime import date, timedelta

from clubplatform.tabular import to_xlsx
from clubplatform.validators import make_id_number, make_mobile, make_vin

_seq = itertools.count(1)

#: the dealer system's Chinese column headers, by field
OWNER_HEADERS_ZH = {
    "name": "姓名", "gender": "性别", "mobile": "手机", "id_number": "身份证号", "birthday": "生日",
    "occupation": "职业", "address": "地址", "postal_code": "邮编", "work_address": "工作单位地址",
    "email": "邮箱", "hobbies": "爱好", "vin": "车架号/VIN", "plate": "车牌", "model": "车型",
    "colour": "颜色", "purchase_date": "购车日期", "delivery_date": "交车日期",
    "insurance_expiry": "保险到期", "next_inspection_on": "下次年检", "mileage_km": "里程",
}
OWNER_HEADERS_EN = {
    "name": "Name", "gender": "Gender", "mobile": "Mobile", "id_number": "ID number",
    "birthday": "Birthday", "occupation": "Occupation", "address": "Address",
    "postal_code": "Postal code", "work_address": "Work address", "email": "Email",
    "hobbies": "Hobbies", "vin": "VIN", "plate": "Plate", "model": "Model", "colour": "Colour",
    "purchase_date": "Purchase date", "delivery_date": "Delivery date",
    "insurance_expiry": "Insurance expiry", "next_inspection_on": "Next inspection",
    "mileage_km": "Mileage",
}
VISIT_HEADERS_ZH = {"order_no": "工单号", "vin": "车架号/VIN", "visit_date": "日期",
                    "visit_type": "类型", "amount": "金额", "mileage_km": "里程"}


def owner_row(**fields) -> dict:
    """A valid owner + vehicle row (values as a dealer system writes them)."""
    rng = random.Random(next(_seq) * 104729)
    gender = rng.choice(("male", "female"))
    birthday = date(1965, 1, 1) + timedelta(days=rng.randrange(12000))
    row = {
        "name": f"车主{next(_seq)}", "gender": "男" if gender == "male" else "女",
        "mobile": make_mobile(rng), "id_number": make_id_number(rng, birthday, gender),
        "birthday": birthday.isoformat(), "occupation": "工程师", "address": "北京市朝阳区建国路1号",
        "postal_code": "100020", "work_address": "北京市海淀区中关村大街1号",
        "email": f"owner{next(_seq)}@example.cn", "hobbies": "自驾游、摄影",
        "vin": make_vin(rng), "plate": f"京A{rng.randrange(10000, 99999)}", "model": "GLC 300L",
        "colour": "白色", "purchase_date": "2023-03-01", "delivery_date": "2023-03-15",
        "insurance_expiry": "2025-03-14", "next_inspection_on": "2027-03-15",
        "mileage_km": "12000",
    }
    row.update(fields)
    return row


def visit_row(vin: str, **fields) -> dict:
    row = {"order_no": f"WO{next(_seq):07d}", "vin": vin, "visit_date": "2024-05-20",
           "visit_type": "保养", "amount": "680.00", "mileage_km": "15000"}
    row.update(fields)
    return row


def table_bytes(rows: list[dict], headers: dict[str, str], *, fmt: str = "csv",
                encoding: str = "utf-8") -> bytes:
    """The rows as a CSV (in ``encoding``) or XLSX file with ``headers`` as its first row."""
    fields = list(headers)
    values = [[r.get(f, "") for f in fields] for r in rows]
    if fmt == "xlsx":
        return to_xlsx([headers[f] for f in fields], values)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([headers[f] for f in fields])
    writer.writerows(values)
    return buf.getvalue().encode(encoding)


def owners_csv(rows: list[dict], encoding: str = "utf-8") -> bytes:
    return table_bytes(rows, OWNER_HEADERS_ZH, encoding=encoding)


def visits_csv(rows: list[dict]) -> bytes:
    return table_bytes(rows, VISIT_HEADERS_ZH)


def make_staged_upload(chapter, user, kind: str = "owners", content: bytes | None = None,
                       filename: str = "owners.csv") -> str:
    """An upload of ``chapter`` waiting for its column mapping; returns its id."""
    from chapter.owners import importer
    from clubplatform.extensions import db

    content = content if content is not None else owners_csv([owner_row()])
    run = importer.stage_upload(chapter.id, user.id, kind, filename, "text/csv", content)
    db.session.commit()
    return run.id
