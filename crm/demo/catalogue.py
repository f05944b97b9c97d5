"""The demo business: stores, category tree, products and the ladder SKUs.

Plain data only (no Django imports), so the generator and later ladder,
suggestion and campaign demos can import the constants cheaply. The SKUs are
part of the demo's contract: later code builds value ladders on them, so
change them only together with that code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# --- Stores -------------------------------------------------------------------


@dataclass(frozen=True)
class StoreSpec:
    """One department store; postcodes are the city's own range."""

    code: str
    name: str
    address: str
    city: str
    postcode: str
    latitude: Decimal
    longitude: Decimal
    postcode_range: tuple[int, int]
    customer_share: float


STORES: tuple[StoreSpec, ...] = (
    StoreSpec(
        code="MI01",
        name="Ladder Milano Duomo",
        address="Corso Vittorio Emanuele II 15",
        city="Milano",
        postcode="20122",
        latitude=Decimal("45.465422"),
        longitude=Decimal("9.190710"),
        postcode_range=(20121, 20162),
        customer_share=0.45,
    ),
    StoreSpec(
        code="TO01",
        name="Ladder Torino Centro",
        address="Via Roma 120",
        city="Torino",
        postcode="10121",
        latitude=Decimal("45.067755"),
        longitude=Decimal("7.682489"),
        postcode_range=(10121, 10156),
        customer_share=0.30,
    ),
    StoreSpec(
        code="BO01",
        name="Ladder Bologna Indipendenza",
        address="Via dell'Indipendenza 30",
        city="Bologna",
        postcode="40121",
        latitude=Decimal("44.498955"),
        longitude=Decimal("11.342616"),
        postcode_range=(40121, 40141),
        customer_share=0.25,
    ),
)
STORE_CODES = tuple(store.code for store in STORES)
# The marker of an existing demo: ``manage.py demo`` builds nothing while it exists.
DEMO_MARKER_STORE = "MI01"

# --- Category tree ------------------------------------------------------------

# slug → (name, parent slug). Roots first, so parents are created before children.
CATEGORIES: dict[str, tuple[str, str | None]] = {
    "electronics": ("Electronics", None),
    "clothing": ("Clothing", None),
    "salon": ("Salon", None),
    "electronics-laptops": ("Laptops", "electronics"),
    "electronics-accessories": ("Accessories", "electronics"),
    "electronics-services": ("Services & warranty", "electronics"),
    "clothing-summer": ("Summer", "clothing"),
    "clothing-winter": ("Winter", "clothing"),
    "clothing-basics": ("Basics", "clothing"),
    "clothing-premium": ("Premium line", "clothing"),
    "salon-hair": ("Hair services", "salon"),
    "salon-beard": ("Beard", "salon"),
    "salon-subscriptions": ("Subscriptions", "salon"),
    "salon-care": ("Care products", "salon"),
}
DEPARTMENTS = ("electronics", "clothing", "salon")

# --- Ladder SKUs (stable: ladder code refers to these) -------------------------

LAPTOP_BASIC = "EL-LAP-BASE"
LAPTOP_PRO = "EL-LAP-PRO"
LAPTOP_CASE = "EL-ACC-CUSTODIA"
MOUSE = "EL-ACC-MOUSE"
EXTENDED_WARRANTY = "EL-SRV-GARANZIA3"

CUT_SHAMPOO = "SA-TAGLIO-SHAMPOO"
CUT_SUBSCRIPTION = "SA-ABB-TAGLIO"
PREMIUM_CARE_SUBSCRIPTION = "SA-ABB-PREMIUM"
BEARD_TRIM = "SA-BARBA-RIFINITURA"

CLOTHING_BASIC = "AB-BAS-MAGLIA"
CLOTHING_PREMIUM = "AB-PRE-MAGLIA"
# The whole basics family and the premium line above it (the clothing ladder
# works on families: any basic is the first step, any premium piece the next).
CLOTHING_BASICS_FAMILY = (
    CLOTHING_BASIC,
    "AB-BAS-TSHIRT",
    "AB-BAS-JEANS",
    "AB-BAS-CHINO",
    "AB-BAS-CAMICIA",
    "AB-BAS-FELPA",
)
CLOTHING_PREMIUM_FAMILY = (
    CLOTHING_PREMIUM,
    "AB-PRE-CAMICIA",
    "AB-PRE-GIACCA",
    "AB-PRE-PANTALONE",
    "AB-PRE-CAPPOTTO",
)


@dataclass(frozen=True)
class DemoLadder:
    """A value ladder the demo data is shaped for: steps in order, complements."""

    key: str
    name: str
    step_skus: tuple[str, ...]
    cross_sell_skus: tuple[str, ...]


DEMO_LADDERS: tuple[DemoLadder, ...] = (
    DemoLadder(
        key="laptop",
        name="Laptop",
        step_skus=(LAPTOP_BASIC, LAPTOP_PRO),
        cross_sell_skus=(LAPTOP_CASE, MOUSE, EXTENDED_WARRANTY),
    ),
    DemoLadder(
        key="salon",
        name="Salon care",
        step_skus=(CUT_SHAMPOO, CUT_SUBSCRIPTION, PREMIUM_CARE_SUBSCRIPTION),
        cross_sell_skus=(BEARD_TRIM,),
    ),
    DemoLadder(
        key="clothing",
        name="Clothing line",
        step_skus=(CLOTHING_BASIC, CLOTHING_PREMIUM),
        cross_sell_skus=("AB-ACC-CINTURA", "AB-INV-SCIARPA"),
    ),
)
LADDER_SKUS: frozenset[str] = frozenset(
    sku for ladder in DEMO_LADDERS for sku in ladder.step_skus + ladder.cross_sell_skus
)

# --- Products -----------------------------------------------------------------

PRODUCT = "product"
SERVICE = "service"
SUBSCRIPTION = "subscription"
BUNDLE = "bundle"
ALL_YEAR = "all_year"
SPRING_SUMMER = "spring_summer"
AUTUMN_WINTER = "autumn_winter"


@dataclass(frozen=True)
class ProductSpec:
    """One catalogue entry; prices and costs in euro."""

    sku: str
    name: str
    category: str
    price: Decimal
    unit_cost: Decimal
    kind: str = PRODUCT
    season: str = ALL_YEAR
    is_consumable: bool = False
    subscription_months: int | None = None

    @property
    def returnable(self) -> bool:
        """Goods can be brought back; services and subscriptions cannot."""
        return self.kind in (PRODUCT, BUNDLE)


def _p(
    sku: str,
    name: str,
    category: str,
    price: str,
    cost: str,
    kind: str = PRODUCT,
    season: str = ALL_YEAR,
    consumable: bool = False,
    months: int | None = None,
) -> ProductSpec:
    return ProductSpec(
        sku=sku,
        name=name,
        category=category,
        price=Decimal(price),
        unit_cost=Decimal(cost),
        kind=kind,
        season=season,
        is_consumable=consumable,
        subscription_months=months,
    )


_LAP = "electronics-laptops"
_ACC = "electronics-accessories"
_SRV = "electronics-services"
_SUM = "clothing-summer"
_WIN = "clothing-winter"
_BAS = "clothing-basics"
_PRE = "clothing-premium"
_HAIR = "salon-hair"
_BEARD = "salon-beard"
_SUBS = "salon-subscriptions"
_CARE = "salon-care"

PRODUCTS: tuple[ProductSpec, ...] = (
    # Electronics: laptops (margins 10-18 %)
    _p(LAPTOP_BASIC, "Laptop Essenziale 14″", _LAP, "549.00", "472.00"),
    _p(LAPTOP_PRO, "Laptop Pro 16″", _LAP, "1499.00", "1245.00"),
    _p("EL-LAP-ULTRA", "Ultrabook Leggero 13″", _LAP, "999.00", "842.00"),
    _p("EL-LAP-STUDIO", "Laptop Studio Creativo 15″", _LAP, "1299.00", "1090.00"),
    _p("EL-LAP-CHROME", "Chromebook Scuola 11″", _LAP, "299.00", "251.00"),
    _p("EL-TAB-10", "Tablet Casa 10″", _LAP, "329.00", "276.00"),
    _p(
        "EL-BUN-STUDENTE",
        "Kit Studente (laptop, custodia, mouse)",
        _LAP,
        "629.00",
        "528.00",
        kind=BUNDLE,
    ),
    # Electronics: accessories (margins 40-60 %)
    _p(LAPTOP_CASE, "Custodia imbottita per laptop", _ACC, "34.90", "13.50"),
    _p(MOUSE, "Mouse wireless silenzioso", _ACC, "24.90", "9.80"),
    _p("EL-ACC-MOUSE-PRO", "Mouse ergonomico Pro", _ACC, "69.90", "31.00"),
    _p("EL-ACC-ZAINO", "Zaino porta-laptop Urbano", _ACC, "59.90", "24.00"),
    _p("EL-ACC-HUB", "Hub USB-C 7 in 1", _ACC, "49.90", "19.00"),
    _p(
        "EL-ACC-CUFFIE",
        "Cuffie Bluetooth con riduzione rumore",
        _ACC,
        "129.00",
        "68.00",
    ),
    _p("EL-ACC-AURICOLARI", "Auricolari true wireless", _ACC, "79.00", "38.00"),
    _p("EL-ACC-TASTIERA", "Tastiera wireless compatta", _ACC, "39.90", "16.00"),
    _p("EL-ACC-MONITOR", "Monitor 27″ QHD", _ACC, "279.00", "205.00"),
    _p("EL-ACC-SSD", "SSD esterno 1 TB", _ACC, "99.00", "61.00"),
    _p("EL-ACC-CARICATORE", "Caricatore USB-C 65 W", _ACC, "44.90", "17.50"),
    _p("EL-ACC-CAVO", "Cavo USB-C intrecciato 2 m", _ACC, "14.90", "3.90"),
    _p("EL-ACC-WEBCAM", "Webcam Full HD", _ACC, "59.90", "27.00"),
    _p("EL-ACC-POWERBANK", "Power bank 20.000 mAh", _ACC, "39.90", "17.00"),
    _p("EL-ACC-PELLICOLA", "Pellicola protettiva schermo", _ACC, "12.90", "2.50"),
    _p("EL-ACC-SPEAKER", "Speaker Bluetooth da spiaggia", _ACC, "49.90", "22.00"),
    _p(
        "EL-ACC-PULIZIA",
        "Kit pulizia schermo",
        _ACC,
        "9.90",
        "2.20",
        consumable=True,
    ),
    # Electronics: services and warranty (high margin)
    _p(
        EXTENDED_WARRANTY,
        "Garanzia estesa 3 anni",
        _SRV,
        "129.00",
        "38.00",
        kind=SERVICE,
    ),
    _p(
        "EL-SRV-SETUP",
        "Configurazione e trasferimento dati",
        _SRV,
        "49.00",
        "18.00",
        SERVICE,
    ),
    _p(
        "EL-SRV-ASSIST",
        "Assistenza tecnica in negozio",
        _SRV,
        "39.00",
        "15.00",
        SERVICE,
    ),
    _p(
        "EL-SRV-PULIZIA",
        "Pulizia interna e pasta termica",
        _SRV,
        "35.00",
        "12.00",
        SERVICE,
    ),
    _p(
        "EL-SRV-CLOUD",
        "Backup cloud 1 anno",
        _SRV,
        "59.00",
        "21.00",
        kind=SUBSCRIPTION,
        months=12,
    ),
    # Clothing: summer (spring/summer season)
    _p(
        "AB-EST-COSTUME-D",
        "Costume intero donna Riviera",
        _SUM,
        "49.90",
        "17.00",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-COSTUME-U",
        "Costume boxer uomo Portofino",
        _SUM,
        "34.90",
        "11.50",
        season=SPRING_SUMMER,
    ),
    _p("AB-EST-BIKINI", "Bikini Capri", _SUM, "44.90", "14.80", season=SPRING_SUMMER),
    _p(
        "AB-EST-OCCHIALI",
        "Occhiali da sole polarizzati",
        _SUM,
        "59.90",
        "18.00",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-TELO",
        "Telo mare in spugna a righe",
        _SUM,
        "24.90",
        "7.90",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-INFRADITO",
        "Infradito Lido",
        _SUM,
        "14.90",
        "4.20",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-CAPPELLO",
        "Cappello di paglia",
        _SUM,
        "22.90",
        "7.10",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-BERMUDA",
        "Bermuda di lino",
        _SUM,
        "39.90",
        "14.00",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-ABITO",
        "Abito estivo in cotone",
        _SUM,
        "59.90",
        "21.00",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-SANDALI",
        "Sandali in cuoio",
        _SUM,
        "69.90",
        "27.00",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-BORSA",
        "Borsa da spiaggia in rafia",
        _SUM,
        "29.90",
        "9.50",
        season=SPRING_SUMMER,
    ),
    _p(
        "AB-EST-POLO",
        "Polo piquet Estate",
        _SUM,
        "34.90",
        "11.00",
        season=SPRING_SUMMER,
    ),
    # Clothing: winter (autumn/winter season)
    _p(
        "AB-INV-CAPPOTTO-D",
        "Cappotto donna in lana Torino",
        _WIN,
        "189.00",
        "72.00",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-CAPPOTTO-U",
        "Cappotto uomo Montgomery",
        _WIN,
        "199.00",
        "76.00",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-PIUMINO",
        "Piumino leggero",
        _WIN,
        "129.00",
        "49.00",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-SCIARPA",
        "Sciarpa in lana merino",
        _WIN,
        "29.90",
        "9.00",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-GUANTI",
        "Guanti in pelle foderati",
        _WIN,
        "39.90",
        "13.50",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-BERRETTO",
        "Berretto a coste",
        _WIN,
        "19.90",
        "5.50",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-STIVALI",
        "Stivaletti Chelsea",
        _WIN,
        "119.00",
        "46.00",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-DOLCEVITA",
        "Dolcevita in lana",
        _WIN,
        "54.90",
        "19.00",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-PIGIAMA",
        "Pigiama in flanella",
        _WIN,
        "39.90",
        "13.00",
        season=AUTUMN_WINTER,
    ),
    _p(
        "AB-INV-OMBRELLO",
        "Ombrello antivento",
        _WIN,
        "24.90",
        "7.50",
        season=AUTUMN_WINTER,
    ),
    # Clothing: basics (all year)
    _p(CLOTHING_BASIC, "Maglia girocollo basic in cotone", _BAS, "29.90", "9.90"),
    _p("AB-BAS-TSHIRT", "T-shirt basic", _BAS, "12.90", "3.60"),
    _p("AB-BAS-JEANS", "Jeans regular basic", _BAS, "39.90", "14.00"),
    _p("AB-BAS-CHINO", "Pantalone chino basic", _BAS, "34.90", "12.00"),
    _p("AB-BAS-CAMICIA", "Camicia Oxford basic", _BAS, "29.90", "10.00"),
    _p("AB-BAS-FELPA", "Felpa basic con cappuccio", _BAS, "34.90", "11.50"),
    _p(
        "AB-BAS-CALZE",
        "Calze in cotone (3 paia)",
        _BAS,
        "9.90",
        "2.40",
        consumable=True,
    ),
    _p(
        "AB-BAS-INTIMO",
        "Boxer in cotone (3 pezzi)",
        _BAS,
        "19.90",
        "5.20",
        consumable=True,
    ),
    _p("AB-BAS-CANOTTA", "Canotta basic", _BAS, "9.90", "2.80"),
    _p("AB-ACC-CINTURA", "Cintura in cuoio", _BAS, "29.90", "9.00"),
    # Clothing: premium line
    _p(CLOTHING_PREMIUM, "Maglione in cashmere Linea Premium", _PRE, "149.00", "58.00"),
    _p("AB-PRE-CAMICIA", "Camicia sartoriale Linea Premium", _PRE, "89.00", "31.00"),
    _p(
        "AB-PRE-GIACCA", "Giacca in lana vergine Linea Premium", _PRE, "259.00", "98.00"
    ),
    _p(
        "AB-PRE-PANTALONE",
        "Pantalone sartoriale Linea Premium",
        _PRE,
        "119.00",
        "42.00",
    ),
    _p(
        "AB-PRE-CAPPOTTO",
        "Cappotto in cammello Linea Premium",
        _PRE,
        "449.00",
        "170.00",
        season=AUTUMN_WINTER,
    ),
    _p("AB-PRE-FOULARD", "Foulard in seta Linea Premium", _PRE, "79.00", "24.00"),
    _p("AB-PRE-BORSA", "Borsa in pelle Linea Premium", _PRE, "229.00", "85.00"),
    # Salon: hair services
    _p(CUT_SHAMPOO, "Taglio + shampoo", _HAIR, "28.00", "11.00", kind=SERVICE),
    _p("SA-PIEGA", "Shampoo e piega", _HAIR, "22.00", "8.50", kind=SERVICE),
    _p("SA-COLORE", "Colore completo", _HAIR, "55.00", "19.00", kind=SERVICE),
    _p("SA-MECHES", "Meches e schiariture", _HAIR, "75.00", "26.00", kind=SERVICE),
    _p(
        "SA-TRATTAMENTO",
        "Trattamento ristrutturante",
        _HAIR,
        "25.00",
        "8.00",
        kind=SERVICE,
    ),
    _p("SA-TAGLIO-BIMBO", "Taglio bambino", _HAIR, "15.00", "6.00", kind=SERVICE),
    _p(
        "SA-ACCONCIATURA",
        "Acconciatura per eventi",
        _HAIR,
        "65.00",
        "24.00",
        kind=SERVICE,
    ),
    # Salon: beard
    _p(BEARD_TRIM, "Rifinitura barba", _BEARD, "15.00", "5.50", kind=SERVICE),
    _p(
        "SA-BARBA-PANNO",
        "Rasatura tradizionale con panno caldo",
        _BEARD,
        "25.00",
        "9.00",
        SERVICE,
    ),
    _p(
        "SA-BUN-TAGLIO-BARBA",
        "Pacchetto taglio + barba",
        _BEARD,
        "38.00",
        "15.50",
        kind=BUNDLE,
    ),
    # Salon: subscriptions (billed monthly)
    _p(
        CUT_SUBSCRIPTION,
        "Abbonamento taglio mensile",
        _SUBS,
        "35.00",
        "14.00",
        kind=SUBSCRIPTION,
        months=1,
    ),
    _p(
        PREMIUM_CARE_SUBSCRIPTION,
        "Abbonamento Cura Premium (taglio, barba, trattamento)",
        _SUBS,
        "59.00",
        "22.00",
        kind=SUBSCRIPTION,
        months=1,
    ),
    _p(
        "SA-ABB-PIEGA",
        "Abbonamento piega settimanale",
        _SUBS,
        "69.00",
        "28.00",
        kind=SUBSCRIPTION,
        months=1,
    ),
    # Salon: care products (consumables)
    _p(
        "SA-CURA-SHAMPOO",
        "Shampoo nutriente 250 ml",
        _CARE,
        "14.90",
        "4.30",
        consumable=True,
    ),
    _p(
        "SA-CURA-BALSAMO",
        "Balsamo districante 200 ml",
        _CARE,
        "13.90",
        "4.00",
        consumable=True,
    ),
    _p(
        "SA-CURA-MASCHERA",
        "Maschera all'argan",
        _CARE,
        "19.90",
        "5.90",
        consumable=True,
    ),
    _p(
        "SA-CURA-OLIO-BARBA",
        "Olio da barba al cedro",
        _CARE,
        "17.90",
        "5.10",
        consumable=True,
    ),
    _p(
        "SA-CURA-CERA", "Cera modellante opaca", _CARE, "15.90", "4.40", consumable=True
    ),
    _p(
        "SA-CURA-SPRAY",
        "Spray termoprotettore",
        _CARE,
        "16.90",
        "4.80",
        consumable=True,
    ),
    _p("SA-CURA-PHON", "Asciugacapelli professionale", _CARE, "89.00", "41.00"),
    _p("SA-CURA-SPAZZOLA", "Spazzola in legno", _CARE, "19.90", "6.00"),
)
PRODUCTS_BY_SKU: dict[str, ProductSpec] = {product.sku: product for product in PRODUCTS}
