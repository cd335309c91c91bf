"""Signing keys and JWTs, as Entra issues them (RS256, kid + x5t, published in JWKS).

One key pair signs for every tenant, as Entra's common keys do; it lives in the store
so tokens issued before a restart still verify after it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .store import Store


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(n: int) -> str:
    return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Signer:
    def __init__(self, store: Store) -> None:
        doc = store.get("keys", "signing")
        if doc is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            now = dt.datetime.now(dt.UTC)
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.sandbox.local")])
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .sign(key, hashes.SHA256())
            )
            doc = {
                "key": key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode(),
                "cert": cert.public_bytes(serialization.Encoding.DER).hex(),
            }
            store.put("keys", "signing", doc)
        self._key = serialization.load_pem_private_key(doc["key"].encode(), password=None)
        self._cert_der = bytes.fromhex(doc["cert"])
        self.x5t = _b64url(hashlib.sha1(self._cert_der).digest())
        self.kid = self.x5t  # Entra uses the same value for kid and x5t
        self._public = self._key.public_key()

    def jwks(self, issuer: str | None = None) -> dict[str, Any]:
        nums = self._public.public_numbers()  # type: ignore[union-attr]
        key: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": _int_b64(nums.n),
            "e": _int_b64(nums.e),
            "x5c": [base64.b64encode(self._cert_der).decode()],
        }
        if issuer:
            key["issuer"] = issuer
        return {"keys": [key]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims,
            self._key,
            algorithm="RS256",  # type: ignore[arg-type]
            headers={"typ": "JWT", "kid": self.kid, "x5t": self.x5t},
        )

    def verify(
        self,
        token: str,
        *,
        audience: str | list[str] | None = None,
        leeway: float = 0,
        now: float | None = None,
    ) -> dict[str, Any]:
        """Verify signature and, if given, audience. Expiry is checked against ``now``
        (the sandbox clock, which tests may move) rather than the wall clock."""
        claims = jwt.decode(
            token,
            self._public,
            algorithms=["RS256"],  # type: ignore[arg-type]
            audience=audience,
            options={
                "verify_aud": audience is not None,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
        if now is not None:
            if "exp" in claims and now > float(claims["exp"]) + leeway:
                raise jwt.ExpiredSignatureError("Signature has expired")
            if "nbf" in claims and now + leeway < float(claims["nbf"]):
                raise jwt.ImmatureSignatureError("The token is not yet valid (nbf)")
        return claims

    def owns(self, token: str) -> bool:
        """Whether a JWT was signed with our key (an Entra-issued token here)."""
        try:
            return jwt.get_unverified_header(token).get("kid") == self.kid
        except jwt.PyJWTError:
            return False


def unverified_claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
