#!/usr/bin/env python3
"""Prints the polynomial coefficients of backends/cuda/MathErf.cpp (needs mpmath).

erf(x) = x P(x^2) for |x| < 1, and erf(x) = 1 - exp(-x^2) g(x) for 1 <= x < 6, where
g(x) = erfc(x) exp(x^2) is a polynomial in t = x - centre on each of three intervals. The fits
are Chebyshev fits (mpmath.chebyfit) in 200-bit arithmetic; the printed error is the fit's,
relative to erf, well below double's 2^-53 (1.1e-16).
"""
import mpmath as mp

mp.mp.prec = 200


def show(name, coeffs):
    body = ", ".join(repr(float(c)) for c in reversed(coeffs))  # lowest degree first
    print(f"constexpr double {name}[] = {{{body}}};")


def small(z):
    return mp.erf(mp.sqrt(z)) / mp.sqrt(z) if z > 0 else 2 / mp.sqrt(mp.pi)


poly, err = mp.chebyfit(small, [0, 1], 14, error=True)
print(f"// |x| < 1: P(z), z = x^2, fit error {mp.nstr(err, 3)}")
show("kErfSmall", poly)
for i, (a, b) in enumerate([(1, 2), (2, 3.5), (3.5, 6)]):
    c = (a + b) / 2
    g = lambda t: mp.erfc(t + c) * mp.exp((t + c) ** 2)
    poly, err = mp.chebyfit(g, [a - c, b - c], 18, error=True)
    print(f"// [{a}, {b}): g(centre + t), centre {c}, fit error relative to erf "
          f"{mp.nstr(err * mp.exp(-a * a) / mp.erf(a), 3)}")
    show(f"kErfc{i}", poly)
