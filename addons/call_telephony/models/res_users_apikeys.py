import hashlib

from odoo import api, models

from odoo.addons.base.models.res_users import INDEX_SIZE, KEY_CRYPT_CONTEXT

_CACHE_SIZE = 64
# sha256 of a verified key -> (res_users_apikeys id, user id), per process
_verified_keys = {}


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"

    @api.model
    def _call_telephony_check_key(self, key, scope):
        """User id of a valid API key of ``scope`` (or a global key), else None.

        Same rule as ``_check_credentials``, but the costly hash check
        (pbkdf2, ~50 ms) runs once per key and process: later requests only
        check that the same key row still exists, is unexpired and belongs to
        an active user, so deleting or expiring a key still takes effect at
        once.
        """
        if not key:
            return None
        digest = hashlib.sha256(key.encode()).hexdigest()
        known = _verified_keys.get(digest)
        if known:
            self.env.cr.execute(
                """
                SELECT k.user_id FROM res_users_apikeys k
                  JOIN res_users u ON u.id = k.user_id
                 WHERE k.id = %s AND u.active
                   AND (k.scope IS NULL OR k.scope = %s)
                   AND (k.expiration_date IS NULL
                        OR k.expiration_date >= now() at time zone 'utc')
                """,
                [known[0], scope],
            )
            row = self.env.cr.fetchone()
            if row and row[0] == known[1]:
                return known[1]
            # the row is gone or changed: verify the key again from scratch
            _verified_keys.pop(digest, None)
        self.env.cr.execute(
            """
            SELECT k.id, k.user_id, k.key FROM res_users_apikeys k
              JOIN res_users u ON u.id = k.user_id
             WHERE u.active AND k.index = %s
               AND (k.scope IS NULL OR k.scope = %s)
               AND (k.expiration_date IS NULL
                    OR k.expiration_date >= now() at time zone 'utc')
            """,
            [key[:INDEX_SIZE], scope],
        )
        for key_id, user_id, hashed in self.env.cr.fetchall():
            if KEY_CRYPT_CONTEXT.verify(key, hashed):
                if len(_verified_keys) >= _CACHE_SIZE:
                    _verified_keys.clear()
                _verified_keys[digest] = (key_id, user_id)
                return user_id
        return None
