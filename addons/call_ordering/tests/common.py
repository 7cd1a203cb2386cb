from datetime import datetime

from odoo.tests import TransactionCase, new_test_user


class CallOrderingCase(TransactionCase):
    """Companies, users and customers shared by the call_ordering tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.cn = cls.env.ref("base.cn")
        cls.company = cls.env.company
        cls.company.country_id = cls.cn
        cls.other_company = cls.env["res.company"].create(
            {"name": "Other Restaurant", "country_id": cls.cn.id}
        )
        agent_group = "call_ordering.call_ordering_group_agent"
        manager_group = "call_ordering.call_ordering_group_manager"
        cls.agent = new_test_user(
            cls.env,
            login="t_agent",
            groups=f"base.group_user,{agent_group}",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.agent_2 = new_test_user(
            cls.env,
            login="t_agent_2",
            groups=f"base.group_user,{agent_group}",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager = new_test_user(
            cls.env,
            login="t_manager",
            groups=f"base.group_user,{manager_group}",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.other_agent = new_test_user(
            cls.env,
            login="t_other_agent",
            groups=f"base.group_user,{agent_group}",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )
        Partner = cls.env["res.partner"]
        cls.zhang = Partner.create(
            {
                "name": "Zhang San",
                "company_id": cls.company.id,
                "mobile": "138 1234 5678",
                "call_home_phone": "010-8765-4321",
                "company_name": "Beijing Hua Xin",
                "call_owner_user_id": cls.agent.id,
                "call_note": "Likes the window table",
            }
        )
        cls.li = Partner.create(
            {
                "name": "Li Si",
                "company_id": cls.company.id,
                "mobile": "+86 139 0000 1111",
                "call_home_phone": "01087654321",
            }
        )
        cls.wang_other = Partner.create(
            {
                "name": "Wang Wu",
                "company_id": cls.other_company.id,
                "mobile": "0086 138 1234 5678",
            }
        )

    @classmethod
    def _order(cls, partner, start, **vals):
        return cls.env["call.order"].create(
            dict(
                {
                    "partner_id": partner.id,
                    "booking_start": start,
                    "party_size": 2,
                    "company_id": partner.company_id.id or cls.company.id,
                },
                **vals,
            )
        )

    @staticmethod
    def dt(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
