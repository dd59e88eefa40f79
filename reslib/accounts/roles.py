"""Platform-wide roles of a user, read once per request and kept on the user object."""

from .models import RoleGrant


def _grants(user) -> list[RoleGrant]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_reslib_role_grants", None)
    if cached is None:
        cached = list(RoleGrant.objects.filter(user=user))
        user._reslib_role_grants = cached
    return cached


def forget_roles(user) -> None:
    user.__dict__.pop("_reslib_role_grants", None)


def is_operator(user) -> bool:
    return any(g.role == RoleGrant.Role.OPERATOR for g in _grants(user))


def administered_province_codes(user) -> set[str]:
    return {g.province_id for g in _grants(user) if g.role == RoleGrant.Role.PROVINCE_ADMIN}


def administered_organization_ids(user) -> set[int]:
    return {g.organization_id for g in _grants(user) if g.role == RoleGrant.Role.ORG_ADMIN}


def is_province_admin(user, province_code: str | None = None) -> bool:
    codes = administered_province_codes(user)
    return bool(codes) if province_code is None else province_code in codes


def is_operator_or_province_admin(user, province_code: str | None = None) -> bool:
    return is_operator(user) or is_province_admin(user, province_code)
