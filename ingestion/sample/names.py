"""Per-country name lists, e-mail domains and phone shapes for the synthetic graduates.

Real linkage is hard because names repeat, carry accents and have several parts (two Spanish surnames,
Dutch `van der` prefixes, Italian `D'Angelo`), so the lists keep those features and are drawn with
Zipf-like weights: a few names are very common, which makes homonyms appear as they do in real registers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CountryNames:
    """First names by sex, surnames, and where the graduates of one country keep their mailboxes."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    email_domains: tuple[str, ...]
    email_domain_weights: tuple[float, ...]


# fmt: off
ES = CountryNames(
    female=(
        "Lucía", "María", "Paula", "Laura", "Marta", "Andrea", "Sara", "Claudia", "Carmen", "Alba",
        "Nerea", "Irene", "Noelia", "Cristina", "Raquel", "Sofía", "Elena", "Ana", "Julia", "Lorena",
        "Patricia", "Rocío", "Natalia", "Ainhoa", "Sandra", "Beatriz", "Silvia", "Inés", "Aitana",
        "Covadonga", "Eva", "Tania", "Miriam", "Alicia", "Rebeca", "Verónica", "Judith", "Celia",
        "Begoña", "Iria", "María José", "Ana Belén", "María del Mar", "Ángela", "Nuria",
    ),
    male=(
        "Pablo", "Alejandro", "Daniel", "David", "Javier", "Adrián", "Sergio", "Carlos", "Álvaro",
        "Hugo", "Diego", "Iván", "Rubén", "Jorge", "Marcos", "Miguel", "Héctor", "Raúl", "Víctor",
        "Óscar", "Mario", "Manuel", "Jesús", "Alberto", "Borja", "Nicolás", "Samuel", "Andrés",
        "Gonzalo", "Íñigo", "Pelayo", "Martín", "Lucas", "Aitor", "Guillermo", "Tomás", "Rodrigo",
        "Joel", "Ángel", "Jaime", "José Manuel", "Juan Carlos", "Miguel Ángel", "Xuan", "Nel",
    ),
    surnames=(
        "Fernández", "González", "García", "Rodríguez", "Álvarez", "Menéndez", "Suárez", "Martínez",
        "López", "Díaz", "Pérez", "Sánchez", "Alonso", "Iglesias", "Gutiérrez", "Muñiz", "Llaneza",
        "Cuesta", "Prieto", "Blanco", "Castro", "Vázquez", "Rubio", "Peláez", "Fueyo", "Arias",
        "Morán", "Villa", "Valdés", "Cueto", "Quirós", "Tamargo", "Noriega", "Bango", "Cabal",
        "Riestra", "Piñera", "Llamedo", "Collado", "Granda", "Lorenzo", "Hevia", "Velasco",
        "Ordóñez", "Montes", "Muñoz", "Núñez", "Gómez", "Rozada", "Cifuentes",
    ),
    email_domains=("gmail.com", "hotmail.com", "hotmail.es", "yahoo.es", "outlook.es", "educastur.org"),
    email_domain_weights=(0.55, 0.17, 0.1, 0.05, 0.08, 0.05),
)

EE = CountryNames(
    female=(
        "Anna", "Maria", "Laura", "Sofia", "Eliise", "Mia", "Lisandra", "Emma", "Hanna", "Kertu",
        "Kristiina", "Liis", "Mari", "Triin", "Kadri", "Kätlin", "Getter", "Helen", "Karmen", "Merili",
        "Grete", "Annika", "Kristel", "Marleen", "Elis", "Sandra", "Brigitta", "Johanna", "Liisa",
        "Keiti", "Pille", "Kärt", "Anastassia", "Darja", "Jekaterina", "Õie", "Ülle", "Sigrid",
    ),
    male=(
        "Martin", "Markus", "Rasmus", "Robin", "Oliver", "Sander", "Karl", "Kevin", "Marten",
        "Kaspar", "Mihkel", "Siim", "Tanel", "Rainer", "Andres", "Jüri", "Priit", "Taavi",
        "Kristjan", "Henri", "Joosep", "Hendrik", "Artur", "Tõnis", "Märt", "Raul", "Mattias",
        "Erik", "Rauno", "Gert", "Oskar", "Aleksandr", "Maksim", "Nikita", "Ülo", "Jaagup",
    ),
    surnames=(
        "Tamm", "Saar", "Sepp", "Mägi", "Kask", "Kukk", "Rebane", "Ilves", "Pärn", "Koppel",
        "Lepik", "Kaasik", "Luik", "Lepp", "Kuusk", "Raudsepp", "Oja", "Kallas", "Vaher", "Teder",
        "Põder", "Karu", "Kivi", "Jõgi", "Laur", "Lõhmus", "Mölder", "Unt", "Paju", "Kütt",
        "Org", "Toom", "Liiv", "Kuusik", "Aavik", "Valk", "Pihlak", "Allik", "Sild", "Kõiv",
        "Nõmm", "Männik", "Vares", "Ots", "Roots", "Tiits", "Ivanov", "Smirnov", "Jõesaar", "Ääremaa",
    ),
    email_domains=("gmail.com", "mail.ee", "hot.ee", "outlook.com", "hotmail.com"),
    email_domain_weights=(0.6, 0.15, 0.1, 0.08, 0.07),
)

IT = CountryNames(
    female=(
        "Giulia", "Sofia", "Aurora", "Alice", "Martina", "Chiara", "Sara", "Francesca", "Giorgia",
        "Elisa", "Federica", "Valentina", "Alessia", "Noemi", "Beatrice", "Elena", "Anna", "Arianna",
        "Camilla", "Greta", "Ilaria", "Marta", "Silvia", "Serena", "Nicole", "Gaia", "Matilde",
        "Veronica", "Rebecca", "Ginevra", "Asia", "Emma", "Irene", "Laura", "Michela", "Benedetta",
    ),
    male=(
        "Francesco", "Alessandro", "Lorenzo", "Matteo", "Andrea", "Luca", "Marco", "Davide",
        "Simone", "Gabriele", "Riccardo", "Federico", "Tommaso", "Nicolò", "Stefano", "Giovanni",
        "Pietro", "Filippo", "Daniele", "Mattia", "Samuele", "Edoardo", "Emanuele", "Giacomo",
        "Michele", "Paolo", "Alessio", "Cristian", "Manuel", "Niccolò", "Jacopo", "Elia", "Mosè",
        "Leonardo", "Diego", "Christian",
    ),
    surnames=(
        "Rossi", "Colombo", "Ferrari", "Bianchi", "Romano", "Ricci", "Galli", "Conti", "Fumagalli",
        "Brambilla", "Villa", "Sala", "Cattaneo", "Mariani", "Molteni", "Riva", "Pozzi", "Mauri",
        "Longoni", "Frigerio", "Bernasconi", "Corti", "Colzani", "Cappelletti", "Negri", "Ronchetti",
        "Airoldi", "Valsecchi", "Meroni", "Terraneo", "Galimberti", "Beretta", "Ratti", "Porta",
        "Lombardi", "Barzaghi", "De Luca", "Esposito", "Russo", "Gallo", "Greco", "Marino", "Bruno",
        "Rizzo", "Moretti", "D'Angelo", "Dell'Orto", "Cantù", "Nicolì", "Zappa",
    ),
    email_domains=("gmail.com", "libero.it", "hotmail.it", "outlook.it", "virgilio.it", "icloud.com"),
    email_domain_weights=(0.62, 0.12, 0.1, 0.06, 0.05, 0.05),
)

NL = CountryNames(
    female=(
        "Emma", "Julia", "Sophie", "Tess", "Lotte", "Fleur", "Anna", "Sanne", "Lisa", "Eva", "Iris",
        "Noa", "Femke", "Esmée", "Zoë", "Marit", "Anouk", "Britt", "Demi", "Romy", "Lieke", "Isa",
        "Mila", "Nina", "Roos", "Floor", "Amber", "Jade", "Ilse", "Maaike", "Renée", "Ayşe",
        "Fatima", "Tamara", "Jildou", "Aaltje", "Wietske", "Hilde",
    ),
    male=(
        "Daan", "Sem", "Lucas", "Milan", "Levi", "Thijs", "Jesse", "Bram", "Lars", "Ruben", "Tim",
        "Niels", "Sven", "Stijn", "Jelle", "Rik", "Luuk", "Bas", "Thomas", "Joost", "Gijs", "Wouter",
        "Koen", "Sjoerd", "Jeroen", "Mees", "Finn", "Jorrit", "Rutger", "Teun", "Mohamed", "Emre",
        "Hidde", "Wessel", "Sietse", "Gerrit",
    ),
    surnames=(
        "de Vries", "Bakker", "de Boer", "Visser", "Smit", "Mulder", "Meijer", "de Jong", "Dijkstra",
        "Bos", "Hoekstra", "Kuipers", "Veenstra", "Postma", "Wierenga", "Huizinga", "Kloosterman",
        "Zijlstra", "Boersma", "van Dijk", "Jansen", "Hofstede", "Oosterhuis", "Schuurman",
        "Wieringa", "Bouma", "Hoving", "Kramer", "Dekker", "Brouwer", "van der Meer", "Schaaf",
        "Pol", "Timmerman", "de Haan", "Nijhof", "Tuinstra", "Drenth", "Scholten", "Hoogeveen",
        "Sikkema", "Koster", "van 't Hof", "Yılmaz", "El Amrani", "Ploeg", "Venema", "Groen",
    ),
    email_domains=("gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "live.nl"),
    email_domain_weights=(0.55, 0.18, 0.1, 0.07, 0.05, 0.05),
)
# fmt: on

BY_COUNTRY: dict[str, CountryNames] = {"ES": ES, "EE": EE, "IT": IT, "NL": NL}
