"""Who may do what with institutions. Shared by the web pages and the services."""

from reslib.accounts import roles


def can_register_organization(user, province_code: str | None = None) -> bool:
    """Operators register institutions anywhere, province administrators in their own province; without a
    province: whether the user may register institutions at all."""
    return roles.is_operator_or_province_admin(user, province_code)
