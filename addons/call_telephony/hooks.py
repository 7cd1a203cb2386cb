from odoo.tools import SQL

from odoo.addons.base.models.res_users import KEY_CRYPT_CONTEXT

DEMO_GATEWAY_KEY = "ctgwdemo5f2c8e1a9b7d4036a1e2f3c4d5e6f708"
GATEWAY_SCOPE = "call_telephony_gateway"


def post_init_hook(env):
    """On a demo database, give the demo gateway user a known API key so
    that ``setup/run`` can start the SIP gateway without a manual step."""
    user = env.ref("call_telephony.call_gateway_user_demo", raise_if_not_found=False)
    if user:
        install_gateway_key(env, user, DEMO_GATEWAY_KEY)
        env["ir.config_parameter"].sudo().set_param(
            "call_telephony.demo_gateway_key", DEMO_GATEWAY_KEY
        )


def install_gateway_key(env, user, key, name="Gateway (demo)"):
    """Store ``key`` as an API key of ``user`` (scope of the gateway).

    Odoo generates random keys only; a fixed demo key is inserted the way
    ``res.users.apikeys`` stores them (index = first 8 characters, hashed key).
    """
    env.cr.execute(
        "DELETE FROM res_users_apikeys WHERE user_id = %s AND name = %s",
        [user.id, name],
    )
    env.cr.execute(
        """
        INSERT INTO res_users_apikeys (name, user_id, scope, index, key, create_date)
        VALUES (%s, %s, %s, %s, %s, now() at time zone 'utc')
        """,
        [name, user.id, GATEWAY_SCOPE, key[:8], KEY_CRYPT_CONTEXT.hash(key)],
    )


def uninstall_hook(env):
    """Drop the index this module added to the bus table."""
    from .models.bus_bus import CREATE_DATE_INDEX  # noqa: PLC0415

    env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(CREATE_DATE_INDEX)))
