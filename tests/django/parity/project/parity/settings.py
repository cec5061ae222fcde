"""A minimal Django 3.2 project whose hand-written migrations use every schema operation
django_schema emulates; generate.sh runs them on a real PostgreSQL 15."""
import os

SECRET_KEY = "parity-project-not-secret"
INSTALLED_APPS = ["shop", "inventory"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PARITY_DB_NAME", "parity"),
        "HOST": os.environ.get("PARITY_DB_HOST", ""),
        "PORT": os.environ.get("PARITY_DB_PORT", ""),
        "USER": "postgres",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"
