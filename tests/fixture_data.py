"""A tiny hand-written reference data folder with the real files' schemas.

It holds a few dozen lines from chapters that district lists name often, so that the
loaders, the nomenclature and classify() can be tested without the full data.
"""

from __future__ import annotations

import csv
from pathlib import Path

SECTIONS = [
    ("I", "1", "Live animals; animal products", "01", "05"),
    ("II", "2", "Vegetable products", "06", "14"),
    ("IV", "4", "Prepared foodstuffs; beverages, spirits and vinegar; tobacco", "16", "24"),
    ("IX", "9", "Wood and articles of wood", "44", "46"),
    ("XI", "11", "Textiles and textile articles", "50", "63"),
    ("XIII", "13", "Articles of stone, plaster, cement, ceramic products, glass", "68", "70"),
    ("XV", "15", "Base metals and articles of base metal", "72", "83"),
    ("XVI", "16", "Machinery and mechanical appliances; electrical equipment", "84", "85"),
    ("XX", "20", "Miscellaneous manufactured articles", "94", "96"),
]
CHAPTERS = [
    ("03", "I", "Fish and crustaceans, molluscs and other aquatic invertebrates"),
    ("08", "II", "Fruit and nuts, edible; peel of citrus fruit or melons"),
    ("09", "II", "Coffee, tea, mate and spices"),
    ("10", "II", "Cereals"),
    ("16", "IV", "Meat, fish or crustacean preparations"),
    ("20", "IV", "Preparations of vegetables, fruit, nuts or other parts of plants"),
    ("44", "IX", "Wood and articles of wood; wood charcoal"),
    ("57", "XI", "Carpets and other textile floor coverings"),
    ("61", "XI", "Apparel and clothing accessories; knitted or crocheted"),
    ("69", "XIII", "Ceramic products"),
    ("74", "XV", "Copper and articles thereof"),
    ("85", "XVI", "Electrical machinery and equipment and parts thereof"),
    ("95", "XX", "Toys, games and sports requisites"),
]
HEADINGS = [
    ("0303", "Fish; frozen, excluding fish fillets"),
    ("0306", "Crustaceans; in shell or not, live, fresh, chilled, frozen, dried"),
    ("0804", "Dates, figs, pineapples, avocados, guavas, mangoes and mangosteens"),
    ("0910", "Ginger, saffron, turmeric (curcuma), thyme, bay leaves, curry and other spices"),
    ("1006", "Rice"),
    ("1604", "Prepared or preserved fish"),
    ("2006", "Vegetables, fruit, nuts, fruit-peel, preserved by sugar"),
    ("4420", "Wood marquetry; caskets and cases for jewellery; statuettes of wood"),
    ("5701", "Carpets and other textile floor coverings; knotted"),
    ("6109", "T-shirts, singlets and other vests; knitted or crocheted"),
    ("6912", "Ceramic tableware, kitchenware, other household articles"),
    ("7419", "Other articles of copper"),
    ("8517", "Telephone sets, including smartphones"),
    ("9503", "Tricycles, scooters, dolls, other toys; puzzles"),
]
HS6 = [
    ("030389", "Fish; frozen, n.e.c. in heading 0303"),
    ("030617", "Crustaceans; frozen, shrimps and prawns, excluding cold-water varieties"),
    ("080430", "Fruit, edible; pineapples, fresh or dried"),
    ("080450", "Fruit, edible; guavas, mangoes and mangosteens, fresh or dried"),
    ("091030", "Spices; turmeric (curcuma)"),
    ("100630", "Cereals; rice, semi-milled or wholly milled, whether or not polished or glazed"),
    ("160414", "Fish preparations; tunas, skipjack and bonito, whole or in pieces"),
    ("200600", "Vegetables, fruit, nuts, fruit-peel; preserved by sugar (drained, glace or crystallised)"),
    ("442090", "Wood marquetry and inlaid wood; caskets and cases for jewellery or cutlery"),
    ("570110", "Carpets and other textile floor coverings; of wool or fine animal hair, knotted"),
    ("610910", "T-shirts, singlets and other vests; of cotton, knitted or crocheted"),
    ("691200", "Ceramic tableware, kitchenware, other household and toilet articles"),
    ("741980", "Copper; articles n.e.c. in heading 7419"),
    ("851713", "Telephone sets; smartphones"),
    ("950300", "Toys; tricycles, scooters, pedal cars, dolls, puzzles"),
]
# code, own text, status, last FY with exports, FY2024-25 exports (USD million)
LINES = [
    ("03038990", "Other frozen fish", "current_traded", "2024-25", 310.0),
    ("03061720", "Vannamei shrimp (Litopenaeus vannamei)", "gst_only", "", 0.0),
    ("03061790", "Other", "current_traded", "2024-25", 4100.0),
    ("08043000", "Pineapples", "current_traded", "2024-25", 4.1),
    ("08045021", "Alphonso (Hapus)", "gst_only", "", 0.0),
    ("08045026", "Kesar", "gst_only", "", 0.0),
    ("08045040", "Mango pulp", "current_traded", "2024-25", 95.0),
    ("09103020", "Turmeric, dried", "current_traded", "2024-25", 160.0),
    ("09103030", "Turmeric powder", "current_traded", "2024-25", 70.0),
    ("10063010", "Rice, parboiled", "current_traded", "2024-25", 3000.0),
    ("10063020", "Basmati rice", "current_traded", "2024-25", 5944.5),
    ("10063090", "Rice excepting parboiled (excl basmati rice)", "current_traded", "2024-25", 2500.0),
    ("16041410", "Tuna, canned", "current_traded", "2024-25", 12.0),
    ("20060000", "Vegetables, fruits, nuts, fruit-peel preserved by sugar", "current_traded", "2024-25", 25.0),
    ("44209090", "Other", "current_traded", "2024-25", 80.0),
    ("57011010", "Hand-made carpets of wool", "current_traded", "2024-25", 700.0),
    ("61091000", "Of cotton", "current_traded", "2024-25", 1800.0),
    ("69120010", "Tableware", "current_traded", "2024-25", 30.0),
    ("74198030", "Articles of brass", "current_traded", "2024-25", 120.0),
    ("85171300", "Smartphones", "gst_only", "", 0.0),
    ("95030030", "Wooden toys", "current_traded", "2024-25", 15.0),
]
OBSOLETE = [("08045020", "Mangoes, fresh", "obsolete_hs6")]
SAC = [
    ("99", "All Services", "2", ""),
    ("9983", "Other professional, technical and business services", "4", "99"),
    ("998314", "Information technology (IT) design and development services", "6", "9983"),
    ("9985", "Support services", "4", "99"),
    ("998552", "Reservation services for accommodation, cruises and package tours", "6", "9985"),
    ("998557", "Tourism promotion and visitor information services", "6", "9985"),
    ("9963", "Accommodation, food and beverage services", "4", "99"),
    ("996311", "Room or unit accommodation services", "6", "9963"),
]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_reference_data(root: Path) -> Path:
    """Write the fixture data folder under ``root`` and return it."""
    hs = root / "hs"
    section_of = {c: s for c, s, _ in CHAPTERS}
    {c: t for c, _, t in CHAPTERS}
    heading_text = dict(HEADINGS)
    hs6_text = dict(HS6)
    _write(hs / "hs_sections.csv", ["section", "section_number", "name", "first_chapter", "last_chapter"],
           [list(r) for r in SECTIONS])
    _write(hs / "hs_chapters.csv", ["chapter", "section", "description", "description_india", "in_hs2022"],
           [[c, s, t, t, "1"] for c, s, t in CHAPTERS])
    _write(hs / "hs_headings.csv",
           ["heading", "chapter", "description", "description_india", "in_hs2022", "in_hs2017"],
           [[h, h[:2], t, t, "1", "1"] for h, t in HEADINGS])
    _write(hs / "hs6.csv", ["hs6", "description", "heading", "chapter", "section", "in_hs2017"],
           [[c, t, c[:4], c[:2], section_of[c[:2]], "1"] for c, t in HS6])
    columns = ["code", "description", "gst_description", "eidb_description", "eidb_unit", "hs6",
               "hs6_description", "hs6_description_india", "heading", "heading_description",
               "heading_description_india", "chapter", "section", "hs6_in_hs2022", "hs6_in_hs2017",
               "in_gst_directory", "in_eidb_list", "eidb_dropped", "eidb_last_fy_with_exports",
               "gst_added_2025", "status"]

    def line(code: str, text: str, status: str, last_fy: str) -> list[str]:
        return [code, text, text, text.upper(), "KGS", code[:6], hs6_text.get(code[:6], ""),
                hs6_text.get(code[:6], "").upper(), code[:4], heading_text[code[:4]],
                heading_text[code[:4]].upper(), code[:2], section_of[code[:2]],
                "1" if code[:6] in hs6_text else "0", "1", "1", "1", "0", last_fy,
                "1" if status == "gst_only" else "0", status]

    current = [line(c, t, s, fy) for c, t, s, fy, _ in LINES]
    _write(hs / "itchs8.csv", columns, current)
    _write(hs / "itchs8_all.csv", columns, current + [line(c, t, s, "") for c, t, s in OBSOLETE])
    _write(hs / "sac.csv", ["code", "description", "level", "parent"], [list(r) for r in SAC])
    _write(hs / "hs2022_hs2017.csv", ["hs2022", "hs2017", "relationship", "is_conversion_target"],
           [[c, c, "1:1", "1"] for c, _ in HS6])
    _write(hs / "india_exports_hs8.csv",
           ["code", "fy", "export_usd_million", "export_inr_crore", "quantity", "unit", "n_partner_countries"],
           [[c, "2024-25", f"{v:.2f}", f"{v * 8.4:.2f}", "1", "KGS", "5"] for c, _, _, _, v in LINES if v])
    _write(hs / "india_exports_totals.csv",
           ["fy", "india_total_usd_million", "india_total_inr_crore", "covered_usd_million",
            "covered_inr_crore", "coverage_share"],
           [["2024-25", "437704.58", "3700000", "298000", "2526890.29", "0.6823"]])
    return root


def write_training_data(root: Path) -> Path:
    """A small lexicon (aliases, broad categories, services) in the real file formats."""
    _write(root / "aliases" / "fixture.csv", ["alias", "codes", "family", "note"], [
        ["basmati rice", "10063020", "rice", "aromatic long-grain rice"],
        ["petha", "20060000", "petha", "ash-gourd candy of Agra, preserved by sugar"],
        ["haldi", "09103020 09103030", "turmeric", "Hindi for turmeric"],
        ["kesar mango", "08045026", "mango", "Kesar variety of mango"],
        ["hapus", "08045021", "mango", "Marathi name of the Alphonso mango"],
        ["prawns", "03061790 03061720", "shrimp", "frozen shrimps and prawns"],
        ["bhadohi carpet", "57011010", "carpet", "hand-knotted woollen carpets"],
    ])
    _write(root / "broad_categories.csv", ["category", "codes", "family", "note"], [
        ["marine products", "03 1604 0306", "broad_marine", "fish, crustaceans and their preparations"],
        ["handicrafts", "4420 6912 7419 9503", "broad_handicrafts", "articles of wood, ceramic, metal, toys"],
    ])
    _write(root / "services.csv", ["term", "codes", "family", "note"], [
        ["tourism", "998552 998557 9985", "svc_tourism", "tour operators and tourism promotion"],
        ["it services", "998314 9983", "svc_it", "IT design and development"],
        ["hospitality", "996311 9963", "svc_hospitality", "hotels and accommodation"],
    ])
    header = ["text", "kind", "codes", "family", "reason"]
    _write(root / "pairs" / "fixture.csv", header, [
        ["Basmati Rice", "goods", "10063020", "rice", "basmati line"],
        ["Pusa basmati chawal", "goods", "10063020", "rice", "basmati variety"],
        ["Parboiled rice", "goods", "10063010", "rice", "parboiled line"],
        ["Sella rice", "goods", "10063010", "rice", "sella is parboiled rice"],
        ["Non-basmati rice", "goods", "10063090", "rice", "other milled rice"],
        ["Kesar mangoes", "goods", "08045026", "mango", "Kesar variety"],
        ["Alphonso mango", "goods", "08045021", "mango", "Alphonso variety"],
        ["Hapus aam", "goods", "08045021", "mango", "Alphonso in Marathi and Hindi"],
        ["Mango pulp", "goods", "08045040", "mango_pulp", "mango pulp line"],
        ["Totapuri mango pulp", "goods", "08045040", "mango_pulp", "pulp of Totapuri mangoes"],
        ["Pineapple", "goods", "08043000", "pineapple", "fresh pineapples"],
        ["Queen pineapples", "goods", "08043000", "pineapple", "Queen variety"],
        ["Turmeric", "goods", "09103020 09103030", "turmeric", "dried turmeric"],
        ["Haldi powder", "goods", "09103030", "turmeric", "turmeric powder"],
        ["Frozen shrimp", "goods", "03061790 03061720", "shrimp", "frozen shrimps"],
        ["Vannamei prawns", "goods", "03061720 03061790", "shrimp", "vannamei line"],
        ["Canned tuna", "goods", "16041410", "tuna", "tuna preparations"],
        ["Hand knotted woollen carpets", "goods", "57011010", "carpet", "hand-made wool carpets"],
        ["Bhadohi rugs", "goods", "57011010", "carpet", "Bhadohi carpets"],
        ["Cotton t-shirts", "goods", "61091000", "tshirt", "knitted cotton t-shirts"],
        ["Hosiery tees", "goods", "61091000", "tshirt", "knitted t-shirts"],
        ["Brass handicrafts", "goods", "74198030", "brass", "articles of brass"],
        ["Moradabad brassware", "goods", "74198030", "brass", "articles of brass"],
        ["Ceramic tableware", "goods", "69120010", "tableware", "ceramic tableware"],
        ["Wooden toys", "goods", "95030030", "toys", "wooden toys"],
        ["Channapatna toys", "goods", "95030030", "toys", "lacquered wooden toys"],
        ["Smartphones", "goods", "85171300", "phones", "smartphones"],
        ["Mobile phones", "goods", "85171300", "phones", "smartphones"],
        ["Seafood", "broad", "03 1604", "broad_marine", "fish and preparations"],
        ["Tourism and travel", "service", "998552 9985", "svc_tourism", "tour services"],
        ["Not applicable", "unknown", "", "neg", "not a product"],
    ])
    return root
