"""What the demo's people and organisations are made of: names, cities and markets,
streets, trades, tags, the weights of stages, sources and relationship levels, and
valid tax identifiers. Shared by the demo (`tendero.customers.demo`), the seeder
(`tendero.customers.seeding`) and the benchmarks' generated files.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tendero.customers.models import AcquisitionSource, LifecycleStage

# --- What the data is made of -------------------------------------------------------
# fmt: off

SPANISH_FIRST_NAMES = (
    "José", "María", "Begoña", "Ángela", "Jesús", "Iñaki", "Nuria", "Raúl", "Sofía",
    "Lucía", "Martín", "Álvaro", "Inés", "Óscar", "Pilar", "Rocío", "Julián", "Tomás",
    "Elena", "Andrés", "Guillermo", "Carmen", "Dolores", "Íñigo", "Joaquín", "Mónica",
    "Verónica", "Ramón", "Adrián", "Héctor", "Ximena", "Itzel", "Valentina", "Benjamín",
    "Matías", "Catalina", "Agustín", "Fernanda", "Francisco", "Ignacio", "Concepción",
    "Manuel", "Rosario", "Alejandro", "Guadalupe", "Maite", "Aitor", "Montserrat", "Jordi",
    "Nerea", "Gonzalo", "Encarnación", "Sebastián", "Renata", "Emilio", "Araceli",
)
SPANISH_SURNAMES = (
    "Núñez", "García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández",
    "Rodríguez", "Díaz", "Muñoz", "Álvarez", "Jiménez", "Ruiz", "Hernández", "Moreno",
    "Romero", "Ibáñez", "Peña", "Castañeda", "Gutiérrez", "Ortega", "Domínguez", "Vázquez",
    "Iglesias", "Echeverría", "Zubizarreta", "Arrieta", "Cortés", "Beltrán", "Montoya",
    "Salazar", "Valdés", "Cienfuegos", "Quiñones", "Olmos", "Treviño", "Garza", "Villarreal",
    "Figueroa", "Contreras", "Sepúlveda", "Araya", "Rojas", "Fuentes", "Bravo", "Ordóñez",
    "Goikoetxea", "Sáez", "Marín", "Calderón", "Zúñiga",
)
ENGLISH_FIRST_NAMES = (
    "James", "Olivia", "Zoë", "Chloë", "Siobhán", "Seán", "Emily", "Oliver", "Harry",
    "Amelia", "Noah", "Ava", "William", "Charlotte", "Ethan", "Grace", "Liam", "Niamh",
    "Renée", "Noël", "Jack", "Isla", "Daniel", "Sophie", "Michael", "Hannah", "Benjamin",
    "Emma", "Robert", "Elizabeth", "Margaret", "Catherine", "Aoife", "Priya", "Mohammed",
)
ENGLISH_SURNAMES = (
    "O'Brien", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
    "Johnson", "Roberts", "Walker", "Wright", "Thompson", "White", "Hughes", "Edwards",
    "Green", "Hall", "O'Connor", "McCarthy", "Murphy", "Kelly", "Davies", "Clarke", "Patel",
    "Khan", "Brontë", "Fitzgerald", "MacDonald", "Anderson", "Miller", "Davis", "D'Souza",
)
NICKNAMES = {
    "José": "Pepe", "Francisco": "Paco", "Dolores": "Lola", "Ignacio": "Nacho",
    "Guadalupe": "Lupe", "Concepción": "Concha", "Manuel": "Manolo", "Rosario": "Charo",
    "Alejandro": "Álex", "Encarnación": "Encarna", "Montserrat": "Montse", "Jesús": "Chuy",
    "William": "Bill", "Elizabeth": "Liz", "Robert": "Bob", "Margaret": "Maggie",
    "Catherine": "Kate", "Benjamin": "Ben", "Michael": "Mike",
}


@dataclass(frozen=True)
class City:
    name: str
    region: str
    postal: Callable[[random.Random], str]
    phone_prefix: str  # E.164 prefix of local landlines, used for organisations


def _digits(prefix: str, n: int) -> Callable[[random.Random], str]:
    return lambda rng: prefix + "".join(str(rng.randrange(10)) for _ in range(n))


def _uk_postcode(area: str) -> Callable[[random.Random], str]:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return lambda rng: (
        f"{area}{rng.randrange(1, 20)} {rng.randrange(1, 10)}"
        f"{rng.choice(letters)}{rng.choice(letters)}"
    )


@dataclass(frozen=True)
class Market:
    country: str
    language: str
    currency: str
    weight: int
    cities: tuple[City, ...]
    mobile_prefixes: tuple[str, ...]
    e164_length: int  # '+' and every digit
    email_domains: tuple[str, ...]
    web_suffix: str
    org_suffixes: tuple[str, ...]


MARKETS: tuple[Market, ...] = (
    Market(
        "ES", "es", "EUR", 50,
        (
            City("Madrid", "Madrid", _digits("280", 2), "+3491"),
            City("Barcelona", "Barcelona", _digits("080", 2), "+3493"),
            City("Valencia", "Valencia", _digits("460", 2), "+3496"),
            City("Sevilla", "Sevilla", _digits("410", 2), "+3495"),
            City("Bilbao", "Bizkaia", _digits("480", 2), "+3494"),
            City("Zaragoza", "Zaragoza", _digits("500", 2), "+3497"),
            City("Málaga", "Málaga", _digits("290", 2), "+3495"),
            City("A Coruña", "A Coruña", _digits("150", 2), "+3498"),
            City("Donostia-San Sebastián", "Gipuzkoa", _digits("200", 2), "+3494"),
            City("Palma", "Illes Balears", _digits("070", 2), "+3497"),
        ),
        ("+346",), 12,
        ("gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net"),
        ".es", ("SL", "SL", "SL", "SA"),
    ),
    Market(
        "MX", "es", "MXN", 20,
        (
            City("Ciudad de México", "CDMX", _digits("0", 4), "+5255"),
            City("Guadalajara", "Jalisco", _digits("44", 3), "+5233"),
            City("Monterrey", "Nuevo León", _digits("64", 3), "+5281"),
            City("Puebla", "Puebla", _digits("72", 3), "+52222"),
            City("Querétaro", "Querétaro", _digits("76", 3), "+52442"),
            City("Mérida", "Yucatán", _digits("97", 3), "+52999"),
        ),
        ("+5255", "+5233", "+5281"), 13,
        ("gmail.com", "hotmail.com", "yahoo.com.mx", "prodigy.net.mx", "outlook.com"),
        ".com.mx", ("S.A. de C.V.", "S.A. de C.V.", "S. de R.L. de C.V."),
    ),
    Market(
        "CL", "es", "CLP", 10,
        (
            City("Santiago", "Región Metropolitana", _digits("75", 5), "+5622"),
            City("Valparaíso", "Valparaíso", _digits("23", 5), "+5632"),
            City("Concepción", "Biobío", _digits("40", 5), "+5641"),
            City("Viña del Mar", "Valparaíso", _digits("25", 5), "+5632"),
            City("Temuco", "La Araucanía", _digits("48", 5), "+5645"),
        ),
        ("+5692", "+5694", "+5695", "+5698"), 12,
        ("gmail.com", "hotmail.com", "vtr.net", "yahoo.cl"),
        ".cl", ("SpA", "Ltda.", "S.A."),
    ),
    Market(
        "GB", "en", "GBP", 10,
        (
            City("London", "Greater London", _uk_postcode("SE"), "+44207"),
            City("Manchester", "Greater Manchester", _uk_postcode("M"), "+44161"),
            City("Bristol", "Bristol", _uk_postcode("BS"), "+44117"),
            City("Leeds", "West Yorkshire", _uk_postcode("LS"), "+44113"),
            City("Edinburgh", "Scotland", _uk_postcode("EH"), "+44131"),
            City("Cardiff", "Wales", _uk_postcode("CF"), "+44292"),
        ),
        ("+4474", "+4475"), 13,
        ("gmail.com", "btinternet.com", "outlook.com", "yahoo.co.uk"),
        ".co.uk", ("Ltd", "Ltd", "Ltd", "plc"),
    ),
    Market(
        "US", "en", "USD", 10,
        (
            City("New York", "NY", _digits("100", 2), "+1212"),
            City("San Francisco", "CA", _digits("941", 2), "+1415"),
            City("Austin", "TX", _digits("787", 2), "+1512"),
            City("Miami", "FL", _digits("331", 2), "+1305"),
            City("Chicago", "IL", _digits("606", 2), "+1312"),
            City("Seattle", "WA", _digits("981", 2), "+1206"),
        ),
        ("+1415", "+1212", "+1512", "+1305"), 12,
        ("gmail.com", "yahoo.com", "icloud.com", "outlook.com"),
        ".com", ("Inc.", "LLC", "LLC", "Ltd"),
    ),
)

SPANISH_STREETS = (
    "Calle Mayor", "Avenida de la Constitución", "Calle de Alcalá", "Paseo de la Castellana",
    "Calle Real", "Avenida de España", "Calle San Vicente Mártir", "Plaza de España",
    "Calle del Doctor Fleming", "Avenida de los Ángeles", "Calle Núñez de Balboa",
    "Rúa do Franco", "Carrer de Sant Pere", "Calle Hidalgo", "Avenida Insurgentes Sur",
    "Calle Reforma", "Avenida Providencia", "Calle Los Aromos", "Avenida Libertador O'Higgins",
)
ENGLISH_STREETS = (
    "High Street", "Church Road", "Station Road", "Victoria Street", "Queen's Road",
    "Main Street", "Oak Avenue", "Park Lane", "Maple Drive", "Elm Street", "Market Street",
)

SPANISH_ORG_PREFIXES = (
    "Transportes", "Construcciones", "Talleres", "Distribuciones", "Clínica Dental",
    "Asesoría", "Ferretería", "Panadería", "Farmacia", "Inmobiliaria", "Logística",
    "Hostelería", "Óptica", "Consultoría", "Reformas", "Grupo", "Comercial", "Seguridad",
)
SPANISH_ORG_PLACES = (
    "del Sur", "La Ribera", "Los Álamos", "del Bajío", "Cantábrico", "Montaña",
    "Las Acacias", "del Pacífico", "Mediterráneo", "Andina", "Peñalara", "La Espiga",
)
ENGLISH_ORG_NAMES = (
    "{surname} & Sons", "{surname} Logistics", "{surname} Plumbing", "Thames {trade}",
    "Brightwater {trade}", "{surname} & {surname2}", "Northgate {trade}", "{surname} Dental",
    "Harbour {trade}", "Redbrick {trade}",
)
ENGLISH_TRADES = ("Logistics", "Builders", "Consulting", "Security", "Catering", "Motors")

SPANISH_CONTACT_ROLES = (
    "Gerente", "Director financiero", "Directora de operaciones", "Responsable de IT",
    "Administración", "Compras", "Socio fundador", "Jefa de flota",
)
ENGLISH_CONTACT_ROLES = (
    "Managing Director", "Finance Director", "IT manager", "Office manager",
    "Procurement", "Operations manager", "Fleet manager",
)

PERSON_TAGS = ("5G", "roaming", "VIP", "familia", "portabilidad", "fibra")
ORGANISATION_TAGS = ("pyme", "leasing", "flota", "IoT", "5G", "roaming", "VIP")
ALL_TAGS = sorted({"empresa", "autónomo", *PERSON_TAGS, *ORGANISATION_TAGS})

STAGE_WEIGHTS = (
    (LifecycleStage.ACTIVE, 56),
    (LifecycleStage.PROSPECT, 12),
    (LifecycleStage.AT_RISK, 12),
    (LifecycleStage.LAPSED, 11),
    (LifecycleStage.WON_BACK, 9),
)
SOURCE_WEIGHTS = (
    (AcquisitionSource.STORE, 25),
    (AcquisitionSource.WEBSITE, 20),
    (AcquisitionSource.REFERRAL, 15),
    (AcquisitionSource.PHONE, 12),
    (AcquisitionSource.FIELD_SALES, 10),
    (AcquisitionSource.CAMPAIGN, 8),
    (AcquisitionSource.PARTNER, 5),
    (AcquisitionSource.EVENT, 3),
    (AcquisitionSource.IMPORT, 2),
)
# The highest rung a relationship has reached, by lifecycle stage.
LEVEL_WEIGHTS = {
    LifecycleStage.PROSPECT: (80, 20, 0, 0),
    LifecycleStage.ACTIVE: (30, 32, 25, 13),
    LifecycleStage.AT_RISK: (40, 35, 20, 5),
    LifecycleStage.LAPSED: (55, 30, 15, 0),
    LifecycleStage.WON_BACK: (35, 40, 20, 5),
}

PROMOTION_REASONS = {
    "es": {
        2: (
            "Necesidades documentadas: cinco líneas móviles con roaming para viajes a Francia.",
            "Le propusimos un paquete a medida en lugar de la tarifa estándar y lo aceptó.",
            "Visita comercial: revisamos su consumo y documentamos lo que necesita.",
        ),
        3: (
            "Diálogo en los dos sentidos: nos llama para consultar antes de cambiar nada.",
            "Nos sugirió mejoras para la factura y las incorporamos.",
            "Conocemos a la familia y sus planes; nos cuentan sus proyectos.",
        ),
        4: (
            "Cumplimos todas las promesas del último año, incluida la instalación urgente.",
            "Nos recomienda a otros clientes y renovó el leasing sin pedir otra oferta.",
            "Confía en nuestras recomendaciones: amplió la flota sin comparar precios.",
        ),
    },
    "en": {
        2: (
            "Needs documented: four lines with EU roaming and a shared data pool.",
            "We proposed a tailored bundle instead of the standard plan and they took it.",
            "Account review: usage analysed and needs written down.",
        ),
        3: (
            "Two-way dialogue: they call us before changing anything.",
            "They suggested improvements to the invoice and we made them.",
            "We know the family and their plans; they tell us about new projects.",
        ),
        4: (
            "Every promise kept for a year, including the urgent router replacement.",
            "Refers new customers to us and renewed the lease without a tender.",
            "Trusts our advice: expanded the fleet without comparing prices.",
        ),
    },
}
DEMOTION_REASONS = {
    "es": (
        "Incumplimos la fecha de entrega del terminal dos veces.",
        "La nota de crédito prometida llegó con tres semanas de retraso.",
        "Facturación incorrecta durante dos meses seguidos.",
    ),
    "en": (
        "We missed the promised delivery date twice.",
        "The promised credit note arrived three weeks late.",
        "Two consecutive incorrect invoices.",
    ),
}
REASSIGNMENT_REASONS = {
    "es": (
        "Reparto de cartera por zonas",
        "El ejecutivo anterior dejó la empresa",
        "Cambio a cartera de empresas",
        "El cliente pidió otro ejecutivo de cuenta",
    ),
    "en": (
        "Territory reorganisation",
        "The previous account executive left the company",
        "Moved to the business portfolio",
        "Customer asked for a Spanish-speaking account executive",
    ),
}
NEW_CUSTOMER_REASON = {"es": "Nuevo cliente", "en": "New customer"}

# fmt: on


def ascii_slug(text: str) -> str:
    """'Núñez' → 'nunez', "O'Brien" → 'obrien': for email local parts and domains."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in plain.lower() if c.isalnum() or c in ".-")


def weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def spanish_nif(number: int) -> str:
    return f"{number:08d}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def spanish_cif(letter: str, number: int) -> str:
    digits = f"{number:07d}"
    total = 0
    for position, char in enumerate(digits):
        value = int(char)
        if position % 2 == 0:  # odd positions (1st, 3rd, …) are doubled
            value = sum(divmod(value * 2, 10))
        total += value
    return f"{letter}{digits}{(10 - total % 10) % 10}"


def chilean_rut(number: int) -> str:
    total, factor = 0, 2
    for char in reversed(str(number)):
        total += int(char) * factor
        factor = 2 if factor == 7 else factor + 1
    check = 11 - total % 11
    digit = {10: "K", 11: "0"}.get(check, str(check))
    return f"{number:,}".replace(",", ".") + f"-{digit}"


def mexican_rfc(rng: random.Random, name_letters: str, born: datetime) -> str:
    homoclave = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(2))
    return f"{name_letters}{born:%y%m%d}{homoclave}{rng.randrange(10)}"
