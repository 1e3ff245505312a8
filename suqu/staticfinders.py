"""The front-end libraries from the npm registry, as static files: of each package only the files
the pages use (settings.VENDOR_FILES), so that collectstatic copies and compresses a few hundred
kilobytes, not the 60 MB of every build each package ships."""

from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage


class VendorFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.packages = []  # (prefix, storage, patterns)
        for prefix, (root, patterns) in settings.VENDOR_FILES.items():
            storage = FileSystemStorage(location=root)
            storage.prefix = prefix
            self.packages.append((prefix, storage, tuple(patterns)))

    def check(self, **kwargs):
        return [
            Error(f"VENDOR_FILES: {storage.location} does not exist; run `make setup` (npm ci)", id="suqu.E001")
            for _prefix, storage, _patterns in self.packages
            if not Path(storage.location).is_dir()
        ]

    def _files(self, storage, patterns, ignore_patterns=()):
        if not Path(storage.location).is_dir():
            return
        for path in utils.get_files(storage, ignore_patterns):
            if any(fnmatch(path, pattern) for pattern in patterns):
                yield path

    def find(self, path, find_all=False):
        found = []
        for prefix, storage, patterns in self.packages:
            if not path.startswith(f"{prefix}/"):
                continue
            relative = path.removeprefix(f"{prefix}/")
            if any(fnmatch(relative, pattern) for pattern in patterns) and storage.exists(relative):
                location = storage.path(relative)
                if not find_all:
                    return location
                found.append(location)
        return found

    def list(self, ignore_patterns):
        for _prefix, storage, patterns in self.packages:
            for path in self._files(storage, patterns, ignore_patterns):
                yield path, storage
