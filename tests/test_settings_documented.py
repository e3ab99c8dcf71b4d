"""Every setting is documented in the README, and environment variables reach the app."""

from catalog import create_app
from catalog.config import SETTINGS
from catalog.config import readme_table
from tests.conftest import PROJECT


def test_every_setting_is_in_the_readme():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in SETTINGS if f"`CATALOG_{name}`" not in readme]
    assert missing == []


def test_the_readme_settings_table_is_the_one_config_generates():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert readme_table() in readme, "run `python -m catalog.config` and paste its table into the README"


def test_environment_variables_override_defaults(monkeypatch, tmp_path, records_dir):
    monkeypatch.setenv("CATALOG_RECORDS_DIR", str(records_dir))
    monkeypatch.setenv("CATALOG_INSTANCE_DIR", str(tmp_path / "inst"))
    monkeypatch.setenv("CATALOG_OAI_PAGE_SIZE", "7")
    monkeypatch.setenv("CATALOG_BASE_URL", "https://archive.example.org")
    app = create_app()
    assert app.config["CATALOG_OAI_PAGE_SIZE"] == 7
    assert app.config["CATALOG_BASE_URL"] == "https://archive.example.org"
    item = app.test_client().get("/api/records").get_json()["items"][0]
    assert item["links"]["self"].startswith("https://archive.example.org/api/records/")


def test_ci_runs_the_readme_test_command():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    command = next(line.split("#")[0].strip() for line in readme.splitlines() if line.endswith("# the tests"))
    assert command in (PROJECT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
