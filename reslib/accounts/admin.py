from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from reslib.core.admin import AuditedModelAdmin

from .models import ApiToken, RoleGrant, User


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 0
    autocomplete_fields = ("organization",)
    fields = ("role", "province", "organization", "created_at")
    readonly_fields = ("created_at",)


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ("username", "real_name", "organization", "learner_category", "is_active", "is_staff",
                    "last_login")
    list_filter = ("is_active", "is_staff", "learner_category", "role_grants__role")
    search_fields = ("username", "real_name", "email", "phone", "organization__name")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
    inlines = [RoleGrantInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal information"), {"fields": ("real_name", "email", "phone", "organization", "learner_category")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "real_name", "organization", "password1", "password2")}),
    )


@admin.register(RoleGrant)
class RoleGrantAdmin(AuditedModelAdmin):
    list_display = ("user", "role", "province", "organization", "created_at")
    list_filter = ("role", "province")
    search_fields = ("user__username", "user__real_name", "organization__name")
    list_select_related = ("user", "province", "organization")
    autocomplete_fields = ("user", "organization")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    """Tokens are created by their owner on the profile page; the back office may only look and revoke."""

    list_display = ("name", "user", "hint", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "hint")
    list_select_related = ("user",)
    fields = ("user", "name", "hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "hint", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
