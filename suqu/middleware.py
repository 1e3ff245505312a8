from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    """Simplified Chinese unless this browser chose another language with the header's switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language; many office machines
    are set to English while their users read Chinese first, so only an explicit choice counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
