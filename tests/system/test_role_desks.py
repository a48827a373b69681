"""Each demo user logs in over HTTP and is sent to their role's workspace, whose sidebar is theirs."""

import pytest
import requests

LANDING = {
	"advisor@omp.example": "service-desk",
	"manager@omp.example": "aftersales-dms",
	"tech.amit@omp.example": "technician-desk",
	"parts@omp.example": "parts-desk",
	"qc@omp.example": "quality-desk",
	"accounts@omp.example": "service-accounts",
	"oem.admin@orion-oem.example": "dealer-network",
}


@pytest.mark.parametrize("user", sorted(LANDING))
def test_login_lands_on_the_roles_workspace(server, demo_password, user):
	s = requests.Session()
	r = s.post(f"{server}/api/method/login", data={"usr": user, "pwd": demo_password}, timeout=30)
	assert r.status_code == 200, r.text[:300]
	assert r.json()["home_page"] == f"/app/{LANDING[user]}"
	r = s.get(f"{server}/api/method/frappe.desk.desktop.get_workspace_sidebar_items", timeout=30)
	assert r.status_code == 200, r.text[:300]
	pages = {p["name"] for p in r.json()["message"]["pages"]}
	assert "Home" not in pages and "Build" not in pages and "Website" not in pages, sorted(pages)
	assert any(p.lower().replace(" ", "-") == LANDING[user] for p in pages), sorted(pages)
