"""Ed25519 identities of RIC components: keys on disk, signing, verifying, and a ring of public keys.

RMR authenticates nobody, so every message that carries authority is signed: an xApp signs its
access requests to the PDP and the controls it sends with a PDP grant; the PDP signs its grants and
revocations. Each component has one Ed25519 key pair. In an OSC RIC the private key is a Kubernetes
secret mounted as a file (``<name>.key``, PKCS#8 PEM) and the public keys the verifier needs are a
ConfigMap or secret of ``<name>.pub`` files (SubjectPublicKeyInfo PEM); ``twinric up`` generates the
same files locally. The PDP holds only the xApps' *public* keys.

Signatures and raw keys travel as unpadded base64url text in JSON (``b64encode``/``b64decode``).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"
SIGNATURE_LEN = 64
PUBLIC_KEY_LEN = 32
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

__all__ = [
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "IdentityError",
    "KeyRing",
    "b64decode",
    "b64encode",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "public_key_from_raw",
    "raw_public_key",
    "verify",
    "write_identity",
]


class IdentityError(ValueError):
    pass


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    """Unpadded (or padded) base64url; raises IdentityError on anything else."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise IdentityError("not base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise IdentityError(f"not base64url: {exc}") from None


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_raw(data: bytes) -> Ed25519PublicKey:
    if len(data) != PUBLIC_KEY_LEN:
        raise IdentityError(f"an Ed25519 public key is {PUBLIC_KEY_LEN} bytes, got {len(data)}")
    return Ed25519PublicKey.from_public_bytes(data)


def verify(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    if len(signature) != SIGNATURE_LEN:
        return False
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise IdentityError(f"cannot read private key {path}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise IdentityError(f"{path} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IdentityError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise IdentityError(f"cannot read public key {path}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise IdentityError(f"{path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise IdentityError(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


def write_identity(directory: str | Path, name: str, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Generate ``<name>.key`` (mode 0600) and ``<name>.pub`` in ``directory``; keep existing ones
    unless ``overwrite`` (a restarted stack keeps its identities)."""
    if not NAME_RE.match(name):
        raise IdentityError(f"identity name {name!r} must match {NAME_RE.pattern}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / f"{name}{PRIVATE_SUFFIX}", directory / f"{name}{PUBLIC_SUFFIX}"
    if private.exists() and public.exists() and not overwrite:
        return private, public
    key = generate_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


class KeyRing:
    """Public keys by name, read from ``<name>.pub`` files in a directory (re-read on ``reload``).

    A file that does not hold an Ed25519 public key is skipped and reported in ``errors``; it never
    stops the others from loading.
    """

    def __init__(self, directory: str | Path | None = None, keys: dict[str, Ed25519PublicKey] | None = None):
        self.directory = Path(directory) if directory else None
        self._lock = threading.Lock()
        self._keys: dict[str, Ed25519PublicKey] = dict(keys or {})
        self._raw: dict[str, bytes] = {n: raw_public_key(k) for n, k in self._keys.items()}
        self.errors: dict[str, str] = {}
        if self.directory is not None:
            self.reload()

    def reload(self) -> int:
        if self.directory is None:
            return len(self._keys)
        keys: dict[str, Ed25519PublicKey] = {}
        errors: dict[str, str] = {}
        for path in sorted(self.directory.glob(f"*{PUBLIC_SUFFIX}")) if self.directory.is_dir() else []:
            try:
                keys[path.name[: -len(PUBLIC_SUFFIX)]] = load_public_key(path)
            except IdentityError as exc:
                errors[path.name] = str(exc)
        with self._lock:
            self._keys = keys
            self._raw = {n: raw_public_key(k) for n, k in keys.items()}
            self.errors = errors
        return len(keys)

    def add(self, name: str, key: Ed25519PublicKey) -> None:
        with self._lock:
            self._keys[name] = key
            self._raw[name] = raw_public_key(key)

    def get(self, name: str) -> Ed25519PublicKey | None:
        return self._keys.get(name)

    def raw(self, name: str) -> bytes | None:
        return self._raw.get(name)

    def names(self) -> list[str]:
        return sorted(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
