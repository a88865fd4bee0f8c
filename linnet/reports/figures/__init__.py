"""Figures: the post's two figures as the post drew them, the corrected figures and the deep-network
figures, 150 dpi PNGs written whole.
"""
