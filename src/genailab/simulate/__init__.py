"""Agent-based and dynamical systems that a data video can show.

- :mod:`~genailab.simulate.nbody`: Granville's synthetic universe: stars of positive and
  negative mass under a tunable force law ``a_i = G sum_j m_j (r_j - r_i) / (d^2 + eps^2)^(p/2)``,
  leapfrog (kick-drift-kick) integration, and momentum-conserving mergers recorded as a
  collision graph (:class:`Universe`, :func:`connected_components`, :func:`trajectories`).
- :mod:`~genailab.simulate.eta_orbits`: partial sums of the Dirichlet eta function as orbits in
  the complex plane, and their acceleration by repeated averaging (:func:`eta_partial_sums`,
  :func:`averaged_partial_sums`, :func:`eta`).
- :mod:`~genailab.simulate.sine_map_basins`: Granville's 2-D sine map, its orbits and
  vectorised basins of attraction over a whole grid (:func:`orbit`, :func:`basins`, :func:`family`).
- :mod:`~genailab.simulate.palettes`: colour-blind-safe basin images shaded by settle time
  (:func:`basin_image`).
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "eta_orbits": ["averaged_partial_sums", "eta", "eta_partial_sums"],
        "nbody": [
            "Universe",
            "UniverseState",
            "connected_components",
            "draw_masses",
            "pair_potential",
            "trajectories",
        ],
        "palettes": ["basin_colour_table", "basin_image"],
        "sine_map_basins": ["BasinMap", "SineMapParams", "basins", "family", "orbit", "sine_map"],
    },
)
