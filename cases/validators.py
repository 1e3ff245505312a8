from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 9
# The formats a photo may have, and the extension it is stored (and served) under.
PHOTO_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
PHOTO_FORMATS = set(PHOTO_EXTENSIONS)
MAX_DESCRIPTION = 5000


def validate_photo(upload):
    """A photo must be small enough and really be an image: the content is read, not the name,
    so a PDF renamed .jpg is refused."""
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(
            _("%(name)s is %(size)s; a photo may be at most %(limit)s."),
            code="photo_too_large",
            params={"name": upload.name, "size": filesizeformat(upload.size), "limit": filesizeformat(MAX_PHOTO_BYTES)},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for "not an image"
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG, WebP or GIF)."), code="not_an_image", params={"name": upload.name}
        ) from None
    finally:
        upload.seek(0)
    if kind not in PHOTO_FORMATS:
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG, WebP or GIF)."), code="not_an_image", params={"name": upload.name}
        )


def validate_photos(uploads):
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(_("At most %(limit)s photos."), code="too_many_photos", params={"limit": MAX_PHOTOS})
    errors = []
    for upload in uploads:
        try:
            validate_photo(upload)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
