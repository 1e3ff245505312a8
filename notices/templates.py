"""The SMS templates: which exist, the variables each may use (in the order the SMS vendors'
templates number them), and rendering. The words are edited in the admin (`SmsTemplate`); the
defaults below are what a new installation starts with."""

import string

from django.utils.translation import gettext_lazy as _

# key: (what it is for, the variables sent to the SMS vendor in order, the default words).
# The vendors refuse a whole URL as a variable value, so a link is written in the words with the
# site's address fixed (`{site}`, this installation's PUBLIC_URL, registered with the vendor as
# literal text) and only its `{token}` a variable. The vendor adds the signature (【…】) itself.
TEMPLATES = {
    "case_ack": (
        _("To the resident: the call is registered, with the link to their case's page"),
        ("number", "token"),
        "您反映的问题已受理，编号{number}。办理进度请查看 {site}/s/{token}/",
    ),
    "case_resolved": (
        _("To the resident: the case is resolved, with the single-use link for their verdict"),
        ("number", "token"),
        "您反映的问题（编号{number}）已办结，请评价办理结果：{site}/r/{token}/",
    ),
    "case_reopened": (
        _("To the resident: the case is being handled again"),
        ("number", "token"),
        "您反映的问题（编号{number}）已重新交办，正在处理。进度请查看 {site}/s/{token}/",
    ),
    # The residents' own page (residents/services.py): the code that confirms their mobile number.
    "resident_code": (
        _("To a resident: the one-time code that confirms their mobile number on the residents' page"),
        ("code",),
        "您的验证码为{code}，5分钟内有效。如非本人操作，请忽略本短信。",
    ),
    # Staff read a notice's whole text in their inbox; the SMS says only what and which case, as
    # the vendors cap a variable at a few dozen characters.
    "staff_notice": (
        _("To a member of staff: a notice (its kind and the case's number)"),
        ("kind", "number"),
        "您有一条“{kind}”提醒（案件{number}），请登录平台查看处理。",
    ),
    "staff_digest": (
        _("To a head of a unit: the daily digest"),
        ("unit", "date", "counts"),
        "{unit}{date}工作提醒：{counts}。请登录平台查看。",
    ),
}
# Filled in the recorded words, never sent as a variable: fixed in the vendor's copy.
LITERAL_VARIABLES = ("site",)


class TemplateError(ValueError):
    """A template's words use a variable it may not, or are not a valid template."""


def check_template(key: str, text: str) -> None:
    """Refuse words that use a variable the template does not have, or a format this renderer
    would not fill in (`{number!r}`, `{number.attr}`, `{0}`, an unbalanced brace)."""
    if key not in TEMPLATES:
        raise TemplateError(_("There is no SMS template “%(key)s”.") % {"key": key})
    allowed = TEMPLATES[key][1] + LITERAL_VARIABLES
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as error:
        raise TemplateError(_("Braces must come in pairs around a variable: %(error)s") % {"error": error}) from error
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            raise TemplateError(
                _("“{%(name)s}” is not a variable of this template; it may use: %(allowed)s.")
                % {"name": name, "allowed": ", ".join(f"{{{v}}}" for v in allowed)}
            )
    if not text.strip():
        raise TemplateError(_("The text is empty."))


def render(key: str, values: dict) -> tuple[str, list[tuple[str, str]]]:
    """The message's words (the admin's, or the default when none are saved) and the variables
    the vendor is sent, in the template's order."""
    return renderer(key)(values)


def renderer(key: str):
    """`render` for many messages of one template: its words are read once."""
    from django.conf import settings

    from notices.models import SmsTemplate

    _label, variables, default = TEMPLATES[key]
    text = SmsTemplate.objects.filter(key=key).values_list("text", flat=True).first() or default

    def fill(values: dict) -> tuple[str, list[tuple[str, str]]]:
        params = [(name, str(values[name])) for name in variables]
        return text.format(**dict(params), site=settings.PUBLIC_URL), params

    return fill
