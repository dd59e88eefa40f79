"""Organisations and the majors catalogue."""

import csv
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from reslib.core import audit
from reslib.core.errors import FieldErrors, PermissionDenied

from . import policies
from .models import Major, Organization, Region
from .validators import validate_credit_code


@dataclass
class OrganizationData:
    name: str
    type: str
    credit_code: str
    province: str
    city: str = ""
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


ORG_FIELDS = ["name", "type", "credit_code", "province", "city", "address", "contact_name", "contact_phone",
              "contact_email"]


def create_organization(data: OrganizationData, *, by) -> Organization:
    """Register an institution (operators anywhere, province administrators in their own province)."""
    if not policies.can_register_organization(by, data.province):
        raise PermissionDenied(_("Only a platform operator or this province's administrator can register "
                                 "institutions."), code="org.create_denied")
    errors = FieldErrors()
    name = data.name.strip()
    code = data.credit_code.strip().upper()
    if not name:
        errors.add("name", "org.name_required", _("Please enter the institution's name."))
    elif Organization.objects.filter(name=name).exists():
        errors.add("name", "org.name_taken", _("An institution with this name is already registered."))
    if data.type not in Organization.Type.values:
        errors.add("type", "org.type_invalid", _("Choose the type of institution."))
    try:
        validate_credit_code(code)
    except ValidationError as exc:
        errors.add("credit_code", exc.code, exc.messages[0])
    else:
        if Organization.objects.filter(credit_code=code).exists():
            errors.add("credit_code", "org.credit_code_taken", _("This credit code is already registered."))
    province = Region.objects.filter(code=data.province, level=Region.Level.PROVINCE).first()
    if province is None:
        errors.add("province", "org.province_invalid", _("Choose a province."))
    city = None
    if data.city:
        city = Region.objects.filter(code=data.city, level=Region.Level.CITY).first()
        if city is None or (province and city.parent_id != province.code):
            errors.add("city", "org.city_invalid", _("Choose a city of the chosen province."))
    if data.contact_email:
        try:
            validate_email(data.contact_email)
        except ValidationError:
            errors.add("contact_email", "org.email_invalid", _("Enter a valid e-mail address."))
    errors.raise_if_any()
    with transaction.atomic():
        org = Organization.objects.create(
            name=name, type=data.type, credit_code=code, province=province, city=city,
            address=data.address.strip(), contact_name=data.contact_name.strip(),
            contact_phone=data.contact_phone.strip(), contact_email=data.contact_email.strip(),
        )
        audit.record(actor=by, action="org.create", target=org, after=audit.snapshot(org, ORG_FIELDS))
    return org


MAJOR_CSV_COLUMNS = ["code", "name", "level", "category_code", "category_name", "class_code", "class_name"]


def import_majors(stream) -> tuple[int, int]:
    """Load catalogue rows from CSV (columns as MAJOR_CSV_COLUMNS); existing codes are updated. Returns (new, updated).

    The whole file is checked before anything is written, so a bad row leaves the catalogue as it was.
    """
    reader = csv.DictReader(stream)
    missing = [c for c in MAJOR_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    rows = []
    for line_no, row in enumerate(reader, start=2):
        row = {k: (row.get(k) or "").strip() for k in MAJOR_CSV_COLUMNS}
        major = Major(**row)
        try:
            major.full_clean(exclude=["code"], validate_unique=False)
            if not (row["code"].isdigit() and len(row["code"]) == 6):
                raise ValidationError({"code": "six digits"})
            if not row["code"].startswith(row["class_code"]) or not row["class_code"].startswith(row["category_code"]):
                raise ValidationError({"class_code": "code, class code and category code must nest"})
        except ValidationError as exc:
            raise ValueError(f"line {line_no}: {exc.message_dict}") from exc
        rows.append(row)
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _major, was_created = Major.objects.update_or_create(code=row["code"], defaults=row)
            created += was_created
            updated += not was_created
    return created, updated


REGION_CSV_COLUMNS = ["code", "name", "level", "parent"]


def import_regions(stream) -> tuple[int, int]:
    """Load GB/T 2260 rows from CSV (code,name,level,parent); provinces first. Checked whole before writing."""
    reader = csv.DictReader(stream)
    missing = [c for c in REGION_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    rows = []
    for line_no, row in enumerate(reader, start=2):
        row = {k: (row.get(k) or "").strip() for k in REGION_CSV_COLUMNS}
        code, level, parent = row["code"], row["level"], row["parent"]
        valid = code.isdigit() and len(code) == 6 and row["name"] and (
            (level == Region.Level.PROVINCE and code.endswith("0000") and not parent)
            or (level == Region.Level.CITY and code.endswith("00") and parent == code[:2] + "0000")
        )
        if not valid:
            raise ValueError(f"line {line_no}: not a GB/T 2260 province or city row: {row}")
        rows.append(row)
    rows.sort(key=lambda r: r["level"] != Region.Level.PROVINCE)
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _region, was_created = Region.objects.update_or_create(
                code=row["code"], defaults={"name": row["name"], "level": row["level"], "parent_id": row["parent"] or None}
            )
            created += was_created
            updated += not was_created
    return created, updated
