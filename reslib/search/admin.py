"""The operator's segmentation dictionary. Saving goes through the services (audit entry, tokenizer reload)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .models import DictionaryWord


@admin.register(DictionaryWord)
class DictionaryWordAdmin(admin.ModelAdmin):
    list_display = ("word", "frequency", "note", "updated_at")
    search_fields = ("word", "note")
    fields = ("word", "frequency", "note")
    actions = ["rebuild_index"]

    def save_model(self, request, obj, form, change):
        if change and "word" in form.changed_data:
            old = DictionaryWord.objects.get(pk=obj.pk)
            services.remove_dictionary_word(old, by=request.user)
        entry = services.add_dictionary_word(obj.word, by=request.user, frequency=obj.frequency, note=obj.note)
        obj.pk = entry.pk

    def delete_model(self, request, obj):
        services.remove_dictionary_word(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.remove_dictionary_word(obj, by=request.user)

    @admin.action(description=_("Rebuild the search index (re-segments all text)"))
    def rebuild_index(self, request, queryset):
        from .tasks import rebuild_index

        rebuild_index.enqueue()
        self.message_user(request, _("The search index is being rebuilt in the background."), messages.SUCCESS)
