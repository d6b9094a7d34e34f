"""The eight pilot-like schools, their qualifications, and the Eurostat context figures.

Modelled on the TRACKTION pilots (5 Asturian VET centres, Pärnumaa in Estonia, Cometa in Como, Alfa-college
in Groningen) so that the sample exercises what real pilots send: Spanish Excel files next to UTF-8
exports, a LimeSurvey export with a mapping file, professional families named in each school's language,
and qualifications in both sector groups, whose job-quality gap the reports must show.
"""

# ruff: noqa: E501  (the school table reads best one qualification per line)

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Qualification:
    """One qualification as a school's register names it."""

    code: str
    name: str
    eqf_level: int
    family: str
    sector: str  # industry | services
    weight: float  # share of the school's graduates
    female_share: float
    nace: str  # NACE sections where graduates usually work, e.g. "CF"
    grad_month_day: tuple[int, int]  # graduation date in the cohort year
    international: bool = False  # taught in English: the graduates' language is `en`


@dataclass(frozen=True)
class School:
    """A pilot school and the tools it uses (which decide the file formats it sends)."""

    code: str
    name: str
    country: str
    region: str
    language: str
    weight: float  # share of all graduates
    survey_tool: str  # canonical | limesurvey
    issues_tokens: bool
    student_id_prefix: str
    qualifications: tuple[Qualification, ...]

    @property
    def stem(self) -> str:
        """File stem of this school: `ES-LABORAL` -> `es_laboral`."""
        return self.code.lower().replace("-", "_")


Q = Qualification

# fmt: off
SCHOOLS: tuple[School, ...] = (
    School("ES-LABORAL", "CIFP La Laboral", "ES", "ES12", "es", 0.24, "canonical", False, "", (
        Q("FME202", "Técnico en Soldadura y Calderería", 4, "Fabricación Mecánica", "industry", 0.1, 0.08, "C", (6, 21)),
        Q("FME302", "Técnico Superior en Diseño en Fabricación Mecánica", 5, "Fabricación Mecánica", "industry", 0.1, 0.22, "CM", (6, 21)),
        Q("ELE202", "Técnico en Instalaciones Eléctricas y Automáticas", 4, "Electricidad y Electrónica", "industry", 0.09, 0.06, "FC", (6, 21)),
        Q("ELE303", "Técnico Superior en Automatización y Robótica Industrial", 5, "Electricidad y Electrónica", "industry", 0.07, 0.12, "C", (6, 21)),
        Q("IFC201", "Técnico en Sistemas Microinformáticos y Redes", 4, "Informática y Comunicaciones", "services", 0.11, 0.2, "JG", (6, 21)),
        Q("IFC303", "Técnico Superior en Desarrollo de Aplicaciones Web", 5, "Informática y Comunicaciones", "services", 0.1, 0.3, "J", (6, 21)),
        Q("ADG301", "Técnico Superior en Administración y Finanzas", 5, "Administración y Gestión", "services", 0.13, 0.72, "NMK", (6, 21)),
        Q("SAN203", "Técnico en Cuidados Auxiliares de Enfermería", 4, "Sanidad", "services", 0.14, 0.88, "Q", (6, 21)),
        Q("SAN302", "Técnico Superior en Laboratorio Clínico y Biomédico", 5, "Sanidad", "services", 0.08, 0.76, "QM", (6, 21)),
        Q("SSC201", "Técnico en Atención a Personas en Situación de Dependencia", 4, "Servicios Socioculturales y a la Comunidad", "services", 0.08, 0.86, "Q", (6, 21)),
    )),
    School("ES-AVILES", "CIFP de Avilés", "ES", "ES12", "es", 0.10, "canonical", False, "", (
        Q("FME201", "Técnico en Mecanizado", 4, "Fabricación Mecánica", "industry", 0.13, 0.05, "C", (6, 24)),
        Q("FME303", "Técnico Superior en Programación de la Producción en Fabricación Mecánica", 5, "Fabricación Mecánica", "industry", 0.1, 0.15, "C", (6, 24)),
        Q("QUI301", "Técnico Superior en Química Industrial", 5, "Química", "industry", 0.15, 0.5, "C", (6, 24)),
        Q("IMA301", "Técnico Superior en Mecatrónica Industrial", 5, "Instalación y Mantenimiento", "industry", 0.09, 0.07, "CD", (6, 24)),
        Q("TMV202", "Técnico en Electromecánica de Vehículos Automóviles", 4, "Transporte y Mantenimiento de Vehículos", "industry", 0.12, 0.04, "G", (6, 24)),
        Q("FMEB01", "Título Profesional Básico en Fabricación y Montaje", 3, "Fabricación Mecánica", "industry", 0.07, 0.05, "CF", (6, 24)),
        Q("ADG201", "Técnico en Gestión Administrativa", 4, "Administración y Gestión", "services", 0.18, 0.75, "NG", (6, 24)),
        Q("COM201", "Técnico en Actividades Comerciales", 4, "Comercio y Marketing", "services", 0.16, 0.65, "G", (6, 24)),
    )),
    School("ES-CERDENO", "CIFP Cerdeño", "ES", "ES12", "es", 0.09, "canonical", False, "", (
        Q("EOC301", "Técnico Superior en Proyectos de Edificación", 5, "Edificación y Obra Civil", "industry", 0.16, 0.45, "FM", (6, 20)),
        Q("ELE301", "Técnico Superior en Sistemas Electrotécnicos y Automatizados", 5, "Electricidad y Electrónica", "industry", 0.14, 0.08, "FC", (6, 20)),
        Q("MAM201", "Técnico en Carpintería y Mueble", 4, "Madera, Mueble y Corcho", "industry", 0.1, 0.1, "C", (6, 20)),
        Q("ENA301", "Técnico Superior en Eficiencia Energética y Energía Solar Térmica", 5, "Energía y Agua", "industry", 0.11, 0.18, "DF", (6, 20)),
        Q("IFC302", "Técnico Superior en Desarrollo de Aplicaciones Multiplataforma", 5, "Informática y Comunicaciones", "services", 0.21, 0.2, "J", (6, 20)),
        Q("SSC302", "Técnico Superior en Educación Infantil", 5, "Servicios Socioculturales y a la Comunidad", "services", 0.28, 0.92, "PQ", (6, 20)),
    )),
    School("ES-HOSTUR", "CIFP Hostelería y Turismo de Gijón", "ES", "ES12", "es", 0.07, "canonical", False, "", (
        Q("HOT201", "Técnico en Cocina y Gastronomía", 4, "Hostelería y Turismo", "services", 0.26, 0.45, "I", (6, 25)),
        Q("HOT202", "Técnico en Servicios en Restauración", 4, "Hostelería y Turismo", "services", 0.16, 0.48, "I", (6, 25)),
        Q("HOT302", "Técnico Superior en Gestión de Alojamientos Turísticos", 5, "Hostelería y Turismo", "services", 0.14, 0.7, "I", (6, 25)),
        Q("HOT304", "Técnico Superior en Dirección de Cocina", 5, "Hostelería y Turismo", "services", 0.14, 0.42, "I", (6, 25)),
        Q("HOT301", "Técnico Superior en Agencias de Viajes y Gestión de Eventos", 5, "Hostelería y Turismo", "services", 0.12, 0.74, "NI", (6, 25)),
        Q("INA201", "Técnico en Panadería, Repostería y Confitería", 4, "Industrias Alimentarias", "industry", 0.18, 0.55, "CG", (6, 25)),
    )),
    School("ES-CISLAN", "CIFP Comunicación, Imagen y Sonido de Langreo", "ES", "ES12", "es", 0.06, "canonical", False, "", (
        Q("IMS302", "Técnico Superior en Realización de Proyectos Audiovisuales y Espectáculos", 5, "Imagen y Sonido", "services", 0.24, 0.5, "JR", (6, 19)),
        Q("IMS303", "Técnico Superior en Sonido para Audiovisuales y Espectáculos", 5, "Imagen y Sonido", "services", 0.2, 0.18, "JR", (6, 19)),
        Q("IMS304", "Técnico Superior en Iluminación, Captación y Tratamiento de Imagen", 5, "Imagen y Sonido", "services", 0.18, 0.45, "JM", (6, 19)),
        Q("IMS201", "Técnico en Vídeo Disc-jockey y Sonido", 4, "Imagen y Sonido", "services", 0.14, 0.22, "RJ", (6, 19)),
        Q("ARG201", "Técnico en Preimpresión Digital", 4, "Artes Gráficas", "industry", 0.12, 0.5, "C", (6, 19)),
        Q("ARG202", "Técnico en Impresión Gráfica", 4, "Artes Gráficas", "industry", 0.12, 0.2, "C", (6, 19)),
    )),
    School("EE-PKHK", "Pärnumaa Kutsehariduskeskus", "EE", "EE00", "et", 0.14, "canonical", True, "PKHK", (
        Q("80441", "Keevitaja", 4, "Mehaanika ja metallitöö", "industry", 0.1, 0.05, "C", (6, 19)),
        Q("80442", "Elektrik", 4, "Elektri- ja energeetika", "industry", 0.1, 0.04, "FD", (6, 19)),
        Q("80443", "Väikelaevaehitaja", 4, "Mootorliikurid, laevad ja lennukid", "industry", 0.08, 0.12, "C", (6, 19)),
        Q("80444", "Mootorsõidukitehnik", 4, "Mootorliikurid, laevad ja lennukid", "industry", 0.1, 0.04, "G", (6, 19)),
        Q("80445", "Ehituspuusepp", 4, "Ehitus ja tsiviilrajatised", "industry", 0.06, 0.1, "F", (6, 19)),
        Q("80446", "Kokk", 4, "Majutamine ja toitlustamine", "services", 0.14, 0.65, "I", (6, 19)),
        Q("80447", "Abikokk", 3, "Majutamine ja toitlustamine", "services", 0.06, 0.55, "I", (6, 19)),
        Q("80448", "IT-süsteemide nooremspetsialist", 4, "Arvutiteadused", "services", 0.08, 0.18, "J", (6, 19)),
        Q("80449", "Tarkvaraarendaja", 5, "Arvutiteadused", "services", 0.06, 0.25, "J", (6, 19)),
        Q("80450", "Hooldustöötaja", 4, "Sotsiaaltöö ja nõustamine", "services", 0.12, 0.92, "Q", (6, 19)),
        Q("80451", "Juuksur", 4, "Juuksuritöö ja iluteenindus", "services", 0.1, 0.95, "S", (6, 19)),
    )),
    School("IT-COMETA", "Cometa Formazione", "IT", "ITC4", "it", 0.10, "limesurvey", True, "CM", (
        Q("IEFP-OP-LEGNO", "Operatore del legno", 3, "Legno e arredamento", "industry", 0.18, 0.12, "C", (7, 3)),
        Q("IEFP-TEC-LEGNO", "Tecnico del legno", 4, "Legno e arredamento", "industry", 0.1, 0.15, "C", (7, 3)),
        Q("IEFP-OP-ABB", "Operatore dell'abbigliamento", 3, "Tessile e moda", "industry", 0.14, 0.78, "C", (7, 3)),
        Q("IEFP-TEC-ABB", "Tecnico dell'abbigliamento", 4, "Tessile e moda", "industry", 0.08, 0.8, "CG", (7, 3)),
        Q("IEFP-OP-RIST", "Operatore della ristorazione", 3, "Ristorazione", "services", 0.22, 0.45, "I", (7, 3)),
        Q("IEFP-TEC-CUC", "Tecnico di cucina", 4, "Ristorazione", "services", 0.12, 0.4, "I", (7, 3)),
        Q("IEFP-OP-ACC", "Operatore ai servizi di promozione e accoglienza", 3, "Turismo e accoglienza", "services", 0.16, 0.7, "NI", (7, 3)),
    )),
    School("NL-ALFA", "Alfa-college", "NL", "NL11", "nl", 0.20, "canonical", False, "", (
        Q("25261", "Eerste monteur elektrotechnische installaties", 4, "Techniek en procesindustrie", "industry", 0.1, 0.04, "FC", (7, 1)),
        Q("25297", "Technicus engineering", 4, "Techniek en procesindustrie", "industry", 0.06, 0.1, "CM", (7, 1)),
        Q("25266", "Monteur mechatronica", 3, "Techniek en procesindustrie", "industry", 0.08, 0.05, "C", (7, 1)),
        Q("25205", "Eerste autotechnicus", 4, "Mobiliteit en voertuigen", "industry", 0.1, 0.05, "G", (7, 1)),
        Q("25236", "Timmerman", 3, "Bouw en infra", "industry", 0.04, 0.06, "F", (7, 1)),
        Q("25604", "Software developer", 4, "ICT en creatieve industrie", "services", 0.1, 0.14, "J", (7, 1)),
        Q("25604-EN", "Software developer (international class)", 4, "ICT en creatieve industrie", "services", 0.06, 0.2, "J", (7, 1), True),
        Q("25655", "Verzorgende-IG", 4, "Zorg en welzijn", "services", 0.18, 0.9, "Q", (7, 1)),
        Q("25698", "Pedagogisch medewerker kinderopvang", 4, "Zorg en welzijn", "services", 0.14, 0.93, "Q", (7, 1)),
        Q("25180", "Zelfstandig werkend kok", 4, "Horeca en bakkerij", "services", 0.08, 0.45, "I", (7, 1)),
        Q("25251", "Commercieel medewerker", 4, "Handel", "services", 0.06, 0.5, "G", (7, 1)),
    )),
)
# fmt: on

# Eurostat youth (15-24) and total unemployment rates (%), NUTS-2 and country (lfst_r_lfu3rt), rounded.
# Years outside the table take the nearest year's value: the context file is illustrative, not an extract.
# fmt: off
UNEMPLOYMENT: dict[tuple[str, str], dict[int, float]] = {
    ("ES12", "unemployment_rate_15_24"): {2016: 44.2, 2017: 39.8, 2018: 37.4, 2019: 35.1, 2020: 39.6, 2021: 36.9, 2022: 31.2, 2023: 30.4, 2024: 28.9},
    ("ES12", "unemployment_rate_total"): {2016: 18.0, 2017: 15.3, 2018: 14.0, 2019: 14.1, 2020: 13.6, 2021: 12.9, 2022: 11.9, 2023: 11.6, 2024: 11.1},
    ("ES", "unemployment_rate_15_24"): {2016: 44.4, 2017: 38.6, 2018: 34.3, 2019: 32.5, 2020: 38.3, 2021: 34.8, 2022: 29.8, 2023: 28.7, 2024: 26.5},
    ("ES", "unemployment_rate_total"): {2016: 19.6, 2017: 17.2, 2018: 15.3, 2019: 14.1, 2020: 15.5, 2021: 14.9, 2022: 13.0, 2023: 12.2, 2024: 11.4},
    ("EE00", "unemployment_rate_15_24"): {2016: 13.4, 2017: 12.1, 2018: 11.8, 2019: 11.1, 2020: 17.9, 2021: 16.8, 2022: 13.2, 2023: 17.3, 2024: 19.9},
    ("EE00", "unemployment_rate_total"): {2016: 6.8, 2017: 5.8, 2018: 5.4, 2019: 4.4, 2020: 6.8, 2021: 6.2, 2022: 5.6, 2023: 6.4, 2024: 7.6},
    ("EE", "unemployment_rate_15_24"): {2016: 13.4, 2017: 12.1, 2018: 11.8, 2019: 11.1, 2020: 17.9, 2021: 16.8, 2022: 13.2, 2023: 17.3, 2024: 19.9},
    ("EE", "unemployment_rate_total"): {2016: 6.8, 2017: 5.8, 2018: 5.4, 2019: 4.4, 2020: 6.8, 2021: 6.2, 2022: 5.6, 2023: 6.4, 2024: 7.6},
    ("ITC4", "unemployment_rate_15_24"): {2016: 26.6, 2017: 21.9, 2018: 18.6, 2019: 17.5, 2020: 20.7, 2021: 20.0, 2022: 16.6, 2023: 14.2, 2024: 13.1},
    ("ITC4", "unemployment_rate_total"): {2016: 7.4, 2017: 6.4, 2018: 6.0, 2019: 5.6, 2020: 5.0, 2021: 5.9, 2022: 4.9, 2023: 4.1, 2024: 3.7},
    ("IT", "unemployment_rate_15_24"): {2016: 37.8, 2017: 34.7, 2018: 32.2, 2019: 29.2, 2020: 29.8, 2021: 29.7, 2022: 23.7, 2023: 22.7, 2024: 20.3},
    ("IT", "unemployment_rate_total"): {2016: 11.7, 2017: 11.2, 2018: 10.6, 2019: 10.0, 2020: 9.2, 2021: 9.5, 2022: 8.1, 2023: 7.7, 2024: 6.5},
    ("NL11", "unemployment_rate_15_24"): {2016: 12.1, 2017: 10.2, 2018: 8.9, 2019: 8.2, 2020: 10.4, 2021: 10.1, 2022: 8.7, 2023: 9.0, 2024: 9.4},
    ("NL11", "unemployment_rate_total"): {2016: 7.4, 2017: 6.1, 2018: 4.9, 2019: 4.3, 2020: 4.6, 2021: 4.7, 2022: 4.0, 2023: 4.2, 2024: 4.3},
    ("NL", "unemployment_rate_15_24"): {2016: 10.8, 2017: 8.9, 2018: 7.2, 2019: 6.7, 2020: 9.1, 2021: 9.3, 2022: 8.1, 2023: 8.3, 2024: 8.8},
    ("NL", "unemployment_rate_total"): {2016: 6.0, 2017: 4.9, 2018: 3.8, 2019: 3.4, 2020: 3.8, 2021: 4.2, 2022: 3.5, 2023: 3.6, 2024: 3.7},
}
# fmt: on
CONTEXT_SOURCE = "Eurostat lfst_r_lfu3rt"


def unemployment_rate(region: str, indicator: str, year: int) -> float:
    """The rate for a year, or the nearest tabulated year's rate (synthetic cohorts may lie outside)."""
    series = UNEMPLOYMENT[(region, indicator)]
    nearest = min(series, key=lambda y: (abs(y - year), y))
    return series[nearest]
