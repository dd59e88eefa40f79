from django.contrib import admin

from reslib.core.admin import AuditedModelAdmin

from .models import Major, Organization, Region


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ("name", "type", "credit_code", "province", "city", "contact_name")
    list_filter = ("type", "province")
    search_fields = ("name", "credit_code", "contact_name")
    list_select_related = ("province", "city")
    autocomplete_fields = ("province", "city")
    readonly_fields = ("created_at", "updated_at")


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "level", "parent", "build_period_months")
    list_filter = ("level",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)


@admin.register(Major)
class MajorAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "level", "category_code", "category_name", "class_code", "class_name",
                    "is_active")
    list_filter = ("level", "is_active", "category_name")
    search_fields = ("code", "name", "class_name", "category_name")
