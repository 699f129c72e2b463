"""Create the first signing key and the published next key, so a fresh install can launch."""

from django.db import migrations


def create_initial_keys(apps, schema_editor):
    from django.utils import timezone

    from lti_platform.keys import encrypt_private_key
    from lti_platform.protocol import jose

    PlatformKey = apps.get_model("lti_platform", "PlatformKey")
    if PlatformKey.objects.filter(status="active").exists():
        return
    now = timezone.now()
    for status in ("active", "next"):
        private = jose.generate_private_key()
        jwk = jose.public_jwk(private.public_key())
        PlatformKey.objects.create(
            kid=jwk["kid"],
            status=status,
            private_key_encrypted=encrypt_private_key(jose.private_key_to_pem(private)),
            public_jwk=jwk,
            created_at=now,
            activated_at=now if status == "active" else None,
        )


class Migration(migrations.Migration):
    dependencies = [("lti_platform", "0001_initial")]
    operations = [migrations.RunPython(create_initial_keys, migrations.RunPython.noop)]
