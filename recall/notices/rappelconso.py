"""The French recall declaration: every recall of a consumer product sold in France is
declared on the administration's portal (RappelConso, Code de la consommation art. L. 423-3),
and the declaration is published as the public recall sheet. This writes what its form asks,
from the recall's definition and the retailer's templates, as JSON and CSV, under the names
of the fields of the public RappelConso data set. A field the form needs and the definition
lacks is an error naming the definition's field to fill, every one at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.db.models import Store
from recall.domain.definition import (
    REMEDY_WORDS,
    FieldError,
    InvalidDefinition,
    RecallDefinition,
    lots_in_words,
)
from recall.notices.templates import TemplateSet
from recall.spreadsheet import write_frame

# The declaration's field, and the definition's field that fills it (for the error).
SOURCES = {
    "categorie_de_produit": "category",
    "nom_de_la_marque_du_produit": "brand",
    "noms_des_modeles_ou_references": "model",
    "identification_des_produits": "products",
    "date_debut_fin_de_commercialisation": "sold_from",
    "distributeurs": "retailer.yaml: name",
    "zone_geographique_de_vente": "stores",
    "motif_du_rappel": "title",
    "risques_encourus_par_le_consommateur": "risk",
    "conduites_a_tenir_par_le_consommateur": "remedies",
    "modalites_de_compensation": "remedies",
    "date_de_fin_de_la_procedure_de_rappel": "ends_on",
    "numero_de_contact": "hotline",
    "liens_vers_les_images": "image",
    "informations_complementaires": "lot_location",
}
OPTIONAL = frozenset({"informations_complementaires"})
_COMPENSATION = {"refund": "Remboursement", "replacement": "Échange", "repair": "Réparation"}


@dataclass(frozen=True)
class Declaration:
    fields: dict[str, str]
    json_path: Path
    csv_path: Path


def rappelconso_fields(
    definition: RecallDefinition, templates: TemplateSet, store_names: list[str]
) -> dict[str, str]:
    """The declaration's fields, in the form's order; '' where the definition says nothing."""
    retailer = templates.retailer
    return {
        "categorie_de_produit": definition.category,
        "nom_de_la_marque_du_produit": definition.brand,
        "noms_des_modeles_ou_references": " - ".join(
            p for p in (definition.product_name, definition.model) if p
        ) if definition.model else "",
        "identification_des_produits": "; ".join(
            f"GTIN {p.sku} : {lots_in_words(p, 'fr')}" for p in definition.products
        ),
        "date_debut_fin_de_commercialisation": (
            f"Du {definition.sold_from:%d/%m/%Y} au {definition.sold_to:%d/%m/%Y}"
        ),
        "distributeurs": retailer.get("name", "fr"),
        "zone_geographique_de_vente": (
            "Magasins : " + ", ".join(store_names) if store_names else "France entière"
        ),
        "motif_du_rappel": definition.title,
        "risques_encourus_par_le_consommateur": definition.risk_in("fr")
        if definition.risk else "",
        "conduites_a_tenir_par_le_consommateur": (
            "Cesser immédiatement d'utiliser le produit. Contacter le service client ou se "
            "rendre en magasin pour choisir, sans frais : "
            + ", ".join(REMEDY_WORDS["fr"][r] for r in definition.remedies) + "."
        ),
        "modalites_de_compensation": ", ".join(_COMPENSATION[r] for r in definition.remedies),
        "date_de_fin_de_la_procedure_de_rappel": (
            f"{definition.ends_on:%d/%m/%Y}" if definition.ends_on else ""
        ),
        "numero_de_contact": definition.hotline or retailer.get("hotline", "fr"),
        "liens_vers_les_images": definition.image,
        "informations_complementaires": _lot_location(definition),
    }  # fmt: skip


def declare(
    *, engine: Engine, definition: RecallDefinition, templates: TemplateSet, out_dir: Path
) -> Declaration:
    """rappelconso.json and rappelconso.csv in `out_dir`; InvalidDefinition names every
    field the form needs that the definition lacks, and nothing is written."""
    fields = rappelconso_fields(definition, templates, _stores(engine, definition))
    missing = [
        FieldError(SOURCES[name], f"is needed for RappelConso's '{name}'")
        for name, value in fields.items()
        if not value and name not in OPTIONAL
    ]
    if missing:
        raise InvalidDefinition(missing, f"recall {definition.id} (RappelConso declaration)")
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "rappelconso.json", out_dir / "rappelconso.csv"
    json_path.write_text(json.dumps(fields, ensure_ascii=False, indent=2), encoding="utf-8")
    write_frame(pd.DataFrame([fields]), csv_path, encoding="utf-8-sig")
    return Declaration(fields, json_path, csv_path)


def _lot_location(definition: RecallDefinition) -> str:
    where = definition.lot_location.get("fr") or definition.lot_location.get("")
    return f"Le numéro de lot se trouve {where}" if where else ""


def _stores(engine: Engine, definition: RecallDefinition) -> list[str]:
    """The stores of a recall limited to some, by name and town; none for every store."""
    if not definition.stores:
        return []
    with Session(engine) as session:
        rows = session.execute(
            select(Store.store_id, Store.name, Store.city).where(
                Store.store_id.in_(sorted(definition.stores))
            )
        ).all()
    named = {store_id: f"{name or store_id} ({city})" if city else (name or store_id)
             for store_id, name, city in rows}  # fmt: skip
    return [named.get(store_id, store_id) for store_id in sorted(definition.stores)]
