from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from accounts.models import User
from accounts.services import token_expires_at, user_sign_out_everywhere


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "real_name", "phone", "is_active", "is_staff"]
    search_fields = ["username", "real_name", "phone"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Contact"), {"fields": ["real_name", "phone"]}),
    ]
    actions = ["sign_out_everywhere"]

    @admin.action(description=_("Log out everywhere (end every session and API token)"))
    def sign_out_everywhere(self, request, queryset):
        users = list(queryset)
        for user in users:
            user_sign_out_everywhere(user=user)
        self.message_user(
            request,
            ngettext(
                "%(count)d user must sign in again everywhere.",
                "%(count)d users must sign in again everywhere.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )


# DRF registers its own token screen; ours shows when each token expires. Deleting a token there
# revokes it at once.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(BaseTokenAdmin):
    list_display = ["key", "user", "created", "expires"]

    @admin.display(description=_("expires"))
    def expires(self, token):
        return token_expires_at(token)
