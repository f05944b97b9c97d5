"""Italian-flavoured names and contact details for demo customers (pure data)."""

from __future__ import annotations

import unicodedata

FEMALE_FIRST_NAMES = (
    "Giulia", "Francesca", "Chiara", "Sara", "Martina", "Valentina", "Alessia",
    "Federica", "Elisa", "Silvia", "Laura", "Paola", "Anna", "Maria", "Giorgia",
    "Elena", "Roberta", "Serena", "Ilaria", "Beatrice", "Camilla", "Aurora",
    "Sofia", "Alice", "Emma", "Greta", "Noemi", "Marta", "Cristina", "Daniela",
    "Monica", "Barbara", "Simona", "Antonella", "Rosa", "Lucia", "Caterina",
    "Benedetta", "Ludovica", "Veronica",
)  # fmt: skip
MALE_FIRST_NAMES = (
    "Marco", "Alessandro", "Luca", "Giuseppe", "Francesco", "Andrea", "Matteo",
    "Lorenzo", "Davide", "Simone", "Federico", "Riccardo", "Stefano", "Paolo",
    "Giovanni", "Roberto", "Antonio", "Fabio", "Daniele", "Nicola", "Tommaso",
    "Leonardo", "Gabriele", "Edoardo", "Filippo", "Pietro", "Emanuele", "Michele",
    "Claudio", "Massimo", "Vincenzo", "Salvatore", "Enrico", "Mattia", "Diego",
    "Alberto", "Carlo", "Giacomo", "Jacopo", "Samuele",
)  # fmt: skip
OTHER_FIRST_NAMES = ("Andrea", "Alex", "Sasha", "Nico", "Vale", "Gabri", "Dani", "Sam")
LAST_NAMES = (
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
    "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini",
    "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana",
    "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini",
    "Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra",
    "Coppola", "De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte",
    "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini",
    "Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo", "Sanna",
    "Farina", "Rizzi", "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri",
    "Mazza", "Testa", "Grassi", "Pellegrino", "Carbone", "Giuliani", "Benedetti",
    "Barone", "Rossetti", "Caputo", "Montanari", "Guerra", "Palmieri", "Bernardi",
    "Martino", "Fiore", "Ferretti", "Bellini", "Basile", "Riva", "Donati",
    "Piras", "Vitali", "Battaglia", "Sartori", "Neri", "Costantini", "Milani",
    "Pagano", "Ruggiero", "Sorrentino", "D'Amico", "Orlando", "Damico", "Negri",
)  # fmt: skip
# RFC 2606 domains, so no demo e-mail can ever reach a real person.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters only: "D'Angelo" → "dangelo", "Niccolò" → "niccolo"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())
