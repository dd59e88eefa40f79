"""Operator back office for libraries: read-only. Every change goes through the services (and their audit entries),
so the admin offers browsing and filtering, never adding, editing or deleting."""

from django.contrib import admin

from .models import Library, LibraryHost, LibraryParticipant, TeamMember


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HostInline(ReadOnlyMixin, admin.TabularInline):
    model = LibraryHost
    fields = ["position", "organization"]
    readonly_fields = fields
    extra = 0


class ParticipantInline(ReadOnlyMixin, admin.TabularInline):
    model = LibraryParticipant
    fields = ["organization"]
    readonly_fields = fields
    extra = 0


class TeamInline(ReadOnlyMixin, admin.TabularInline):
    model = TeamMember
    fields = ["user", "role", "invited_by", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Library)
class LibraryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "level", "status", "province", "core_major", "build_start", "build_end", "created_at"]
    list_filter = ["status", "level", "province"]
    search_fields = ["name", "core_major__name", "core_major__code"]
    list_select_related = ["province", "core_major"]
    readonly_fields = ["name", "description", "level", "province", "core_major", "served_majors", "build_start",
                       "build_end", "status", "created_by", "submitted_at", "created_at", "updated_at"]
    inlines = [HostInline, ParticipantInline, TeamInline]
    date_hierarchy = "created_at"


@admin.register(TeamMember)
class TeamMemberAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["library", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["library__name", "user__username", "user__real_name"]
    list_select_related = ["library", "user"]
