"""France's recall declaration (RappelConso) written from the definition: every field its form
asks, as JSON and CSV; a field the definition lacks is named, and nothing is written."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from recall.cli import cli
from recall.db.models import Store
from recall.domain.definition import InvalidDefinition
from recall.notices import rappelconso
from recall.notices.templates import TemplateSet
from recall.settings import PROJECT_TEMPLATES
from tests.support import definition, launch, seed

DECLARED = {
    "category": "Maison-Habitat",
    "brand": "Brico Maison",
    "model": "X200 18 V",
    "image": "images/x200.jpg",
    "ends_on": "2027-06-30",
    "lot_location": {"fr": "sous la batterie, après « LOT »", "en": "under the battery"},
}
TEMPLATES = TemplateSet(PROJECT_TEMPLATES / "letters")


def test_every_field_of_the_form_comes_from_the_definition(engine, tmp_path):
    recall = definition(**DECLARED)
    made = rappelconso.declare(
        engine=engine, definition=recall, templates=TEMPLATES, out_dir=tmp_path
    )
    fields = json.loads(made.json_path.read_text(encoding="utf-8"))
    assert list(fields) == list(rappelconso.SOURCES)
    assert (
        fields["identification_des_produits"] == "GTIN 3276000123456 : lots L4410 à L4420 et L4433"
    )
    assert fields["date_debut_fin_de_commercialisation"] == "Du 01/01/2026 au 30/06/2026"
    assert fields["zone_geographique_de_vente"] == "France entière"
    assert fields["modalites_de_compensation"] == "Remboursement, Échange, Réparation"
    assert fields["noms_des_modeles_ou_references"] == "Perceuse-visseuse X200 18 V - X200 18 V"
    assert fields["date_de_fin_de_la_procedure_de_rappel"] == "30/06/2027"
    assert fields["distributeurs"] == "Brico Maison SAS"
    assert fields["numero_de_contact"] == "0 800 123 456"
    assert fields["informations_complementaires"].endswith("sous la batterie, après « LOT »")
    assert "Cesser immédiatement" in fields["conduites_a_tenir_par_le_consommateur"]
    row = pd.read_csv(made.csv_path, dtype=str, encoding="utf-8-sig").iloc[0].to_dict()
    assert row == fields


def test_a_recall_limited_to_some_stores_names_them(engine, tmp_path):
    seed(engine, Store(store_id="S001", name="Brico Lyon Part-Dieu", city="Lyon", row_hash="x"))
    recall = definition(**DECLARED, stores=["S001"])
    made = rappelconso.declare(
        engine=engine, definition=recall, templates=TEMPLATES, out_dir=tmp_path
    )
    assert made.fields["zone_geographique_de_vente"] == "Magasins : Brico Lyon Part-Dieu (Lyon)"


def test_the_fields_the_form_needs_are_named_at_once_and_nothing_is_written(engine, tmp_path):
    out = tmp_path / "declaration"
    with pytest.raises(InvalidDefinition) as caught:
        rappelconso.declare(
            engine=engine, definition=definition(), templates=TEMPLATES, out_dir=out
        )
    assert {e.field for e in caught.value.errors} == {
        "category", "brand", "model", "image", "ends_on"
    }  # fmt: skip
    assert not out.exists()


def test_the_command_writes_the_declaration_or_names_what_is_missing(
    engine, database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("RECALL_DATABASE_URL", database_url)
    monkeypatch.setenv("RECALL_DATA_DIR", str(tmp_path / "var"))
    launch(engine, **DECLARED)
    runner = CliRunner()
    done = runner.invoke(cli, ["notice", "rappelconso", "R-2026-014", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "rappelconso.json").exists()
    launch(engine, brand="")
    refused = runner.invoke(cli, ["notice", "rappelconso", "R-2026-014"])
    assert refused.exit_code == 2 and "brand" in refused.output
