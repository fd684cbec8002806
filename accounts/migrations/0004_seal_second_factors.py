"""Move every stock django-otp device into the sealed ones, then empty the stock tables; forget
django-axes' attempt tables, which kept whatever was typed as a username.

The start-up key check runs first: with a wrong or missing key this refuses and changes
nothing. Each TOTP secret is sealed under a new data key of its own (wrapped by the active
KEK), each backup code becomes a keyed digest, and every sealed copy is read back from the
database and proven to open to the original before the stock rows are deleted. The whole
migration is one transaction: a failure anywhere leaves the stock tables as they were.

Historical models cannot reach the encryption through their instances, so this seals with the
same functions the fields use (`encryption.fields.seal_blob`, `open_blob`), naming the field
as the model does. Going back opens the secrets into stock TOTP devices again (so an older
release can still log its staff in); backup codes cannot be recovered from their digests, and
are gone after going back: each staff member gets new ones with a reset.
"""

import hmac
import secrets
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import migrations
from django.utils import timezone

from accounts.models.devices import backup_code_digest
from encryption.datakeys import unwrap_key, wrap
from encryption.fields import Sealed, open_blob, seal_blob
from encryption.keyring import KEY_BYTES, keyring
from encryption.sentinels import require_usable_keys

TOTP_OWNER = "accounts.sealedtotpdevice"
SECRET_FIELD = "accounts.sealedtotpdevice.secret"
DEVICE_FIELDS = ("user_id", "name", "confirmed", "created_at", "last_used_at")
THROTTLE_FIELDS = ("throttling_failure_timestamp", "throttling_failure_count")
TOTP_FIELDS = ("step", "t0", "digits", "tolerance", "drift", "last_t")
AXES_TABLES = (
    "axes_accessattemptexpiration",
    "axes_accessattempt",
    "axes_accessfailurelog",
    "axes_accesslog",
)


def _copy(source, names):
    return {name: getattr(source, name) for name in names}


def seal(apps, schema_editor):
    StockTOTP = apps.get_model("otp_totp", "TOTPDevice")
    StockStatic = apps.get_model("otp_static", "StaticDevice")
    StockToken = apps.get_model("otp_static", "StaticToken")
    SealedTOTP = apps.get_model("accounts", "SealedTOTPDevice")
    BackupDevice = apps.get_model("accounts", "BackupCodeDevice")
    BackupCode = apps.get_model("accounts", "BackupCode")
    DataKey = apps.get_model("encryption", "DataKey")
    if not (StockTOTP.objects.exists() or StockStatic.objects.exists()):
        return
    ring = keyring()
    require_usable_keys(ring)  # the start-up key check: wrong keys stop here, nothing written

    proofs = []
    for stock in StockTOTP.objects.order_by("pk"):
        device_id = uuid.uuid4()
        key = secrets.token_bytes(KEY_BYTES)
        kek_id, wrapped = wrap(key, owner_label=TOTP_OWNER, owner_id=device_id, ring=ring)
        data_key = DataKey.objects.create(
            owner_label=TOTP_OWNER, owner_id=device_id, kek_id=kek_id, wrapped=wrapped
        )
        sealed = seal_blob(
            cipher=AESGCM(key),
            data_key_id=data_key.pk,
            label=SECRET_FIELD,
            pk=device_id,
            plaintext=stock.key.encode("ascii"),
        )
        SealedTOTP.objects.create(
            id=device_id,
            data_key=data_key,
            secret=Sealed(sealed),
            **_copy(stock, DEVICE_FIELDS + THROTTLE_FIELDS + TOTP_FIELDS),
        )
        proofs.append((device_id, stock.key))

    codes = []
    for stock in StockStatic.objects.order_by("pk"):
        device = BackupDevice.objects.create(
            id=uuid.uuid4(), **_copy(stock, DEVICE_FIELDS + THROTTLE_FIELDS)
        )
        for token in StockToken.objects.filter(device_id=stock.pk).order_by("pk"):
            digest = backup_code_digest(device_id=device.pk, code=token.token, ring=ring)
            BackupCode.objects.get_or_create(device_id=device.pk, digest=digest)
            codes.append((device.pk, token.token))

    # Proof, from what the database now holds: every sealed secret opens to the original, and
    # every backup code matches a stored digest. Only then are the stock rows deleted.
    for device_id, original in proofs:
        device = SealedTOTP.objects.select_related("data_key").get(pk=device_id)
        data_key = device.data_key
        key = unwrap_key(
            wrapped=bytes(data_key.wrapped),
            key_id=data_key.pk,
            owner_label=data_key.owner_label,
            owner_id=data_key.owner_id,
            kek_id=data_key.kek_id,
            ring=ring,
        )
        opened = open_blob(
            cipher=AESGCM(key),
            data_key_id=data_key.pk,
            label=SECRET_FIELD,
            pk=device_id,
            blob=device.__dict__["secret"].blob,
        )
        if not hmac.compare_digest(opened, original.encode("ascii")):
            raise RuntimeError(f"The sealed copy of device {device_id} does not open: stopping.")
    for device_id, code in codes:
        digest = backup_code_digest(device_id=device_id, code=code, ring=ring)
        if not BackupCode.objects.filter(device_id=device_id, digest=digest).exists():
            raise RuntimeError(f"A backup code of device {device_id} was not stored: stopping.")

    StockToken.objects.all().delete()
    StockStatic.objects.all().delete()
    StockTOTP.objects.all().delete()


def unseal(apps, schema_editor):
    StockTOTP = apps.get_model("otp_totp", "TOTPDevice")
    SealedTOTP = apps.get_model("accounts", "SealedTOTPDevice")
    BackupDevice = apps.get_model("accounts", "BackupCodeDevice")
    DataKey = apps.get_model("encryption", "DataKey")
    if not SealedTOTP.objects.exists() and not BackupDevice.objects.exists():
        return
    ring = keyring()
    require_usable_keys(ring)
    for device in SealedTOTP.objects.select_related("data_key").order_by("pk"):
        data_key = device.data_key
        key = unwrap_key(
            wrapped=bytes(data_key.wrapped),
            key_id=data_key.pk,
            owner_label=data_key.owner_label,
            owner_id=data_key.owner_id,
            kek_id=data_key.kek_id,
            ring=ring,
        )
        secret = open_blob(
            cipher=AESGCM(key),
            data_key_id=data_key.pk,
            label=SECRET_FIELD,
            pk=device.pk,
            blob=device.__dict__["secret"].blob,
        )
        StockTOTP.objects.create(
            key=secret.decode("ascii"),
            **_copy(device, DEVICE_FIELDS + THROTTLE_FIELDS + TOTP_FIELDS),
        )
        device.delete()
        DataKey.objects.filter(pk=data_key.pk).update(wrapped=None, destroyed_at=timezone.now())
    BackupDevice.objects.all().delete()


def forget_axes(apps, schema_editor):
    connection = schema_editor.connection
    existing = set(connection.introspection.table_names())
    for table in AXES_TABLES:
        if table in existing:
            schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(table)}")
    if "django_migrations" in existing:
        schema_editor.execute("DELETE FROM django_migrations WHERE app = 'axes'")


def create_token_records(apps, schema_editor):
    """Tokens issued before token records existed get one, so their owners see them listed."""
    AuthToken = apps.get_model("knox", "AuthToken")
    TokenRecord = apps.get_model("accounts", "TokenRecord")
    for token in AuthToken.objects.filter(record__isnull=True):
        TokenRecord.objects.create(
            id=uuid.uuid4(), token=token, issued_at=token.created, last_used_at=token.created
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sealed_devices_lockout_enrolment_changes"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
        ("knox", "0009_extend_authtoken_field"),
        ("encryption", "0001_initial"),
        # The key check reads every table with blind indexes.
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seal, unseal),
        migrations.RunPython(forget_axes, migrations.RunPython.noop),
        migrations.RunPython(create_token_records, migrations.RunPython.noop),
    ]
