"""slotfinder: when can this patient be seen?"""
