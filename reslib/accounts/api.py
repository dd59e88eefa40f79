"""Accounts API: exchange a password for a token, the caller's profile, personal API tokens."""

from ninja import Router
from ninja.pagination import paginate

from reslib.core.api import LOGGED_IN, ErrorOut, Paginated, Status, current_user

from . import services
from .models import ApiToken, RoleGrant
from .schemas import MeOut, TokenCreatedOut, TokenCreateIn, TokenOut, TokenRequest

router = Router(tags=["accounts"])


def _created(token: ApiToken, raw: str) -> dict:
    return {"token": raw, "id": token.pk, "name": token.name, "hint": token.hint, "created_at": token.created_at}


@router.post("/auth/token", auth=None, response={201: TokenCreatedOut, 401: ErrorOut, 429: ErrorOut},
             summary="Exchange username and password for a personal API token")
def issue_token(request, payload: TokenRequest):
    """Throttled like the login page: after repeated failures the username and address are locked out (429)."""
    token, raw = services.issue_token_for_credentials(
        request, username=payload.username, password=payload.password, name=payload.name
    )
    return Status(201, _created(token, raw))


@router.get("/me", auth=LOGGED_IN, response={200: MeOut, 401: ErrorOut}, summary="The caller's profile and roles")
def me(request):
    user = current_user(request)
    grants = RoleGrant.objects.filter(user=user).select_related("province", "organization").order_by("role", "pk")
    memberships = (
        # user.library_roles: the TeamMember rows (libraries sit above accounts, so no import of their models here)
        user.library_roles.select_related("library").order_by("library__name", "role")
    )
    return {
        "id": user.pk,
        "username": user.username,
        "real_name": user.real_name,
        "display_name": user.display_name,
        "email": user.email,
        "phone": user.phone,
        "learner_category": user.learner_category,
        "organization": user.organization,
        "platform_roles": list(grants),
        "library_roles": list(memberships),
    }


@router.get("/me/tokens", auth=LOGGED_IN, response=list[TokenOut], summary="The caller's API tokens")
@paginate(Paginated)
def list_tokens(request):
    return ApiToken.objects.filter(user=current_user(request)).order_by("-created_at", "-pk")


@router.post("/me/tokens", auth=LOGGED_IN,
             response={201: TokenCreatedOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
             summary="Create a personal API token (shown once)")
def create_token(request, payload: TokenCreateIn):
    token, raw = services.create_api_token(current_user(request), name=payload.name)
    return Status(201, _created(token, raw))


@router.delete("/me/tokens/{token_id}", auth=LOGGED_IN, response={204: None, 401: ErrorOut, 404: ErrorOut},
               summary="Revoke one of the caller's API tokens")
def revoke_token(request, token_id: int):
    services.revoke_api_token(current_user(request), token_id)
    return Status(204, None)
