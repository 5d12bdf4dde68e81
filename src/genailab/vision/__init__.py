"""Vision: an AlexNet-shaped network trained here, its data, and tools that look inside it.

- :mod:`~genailab.vision.alexnet`: the network, its named stages ``conv1 .. fc8``;
- :mod:`~genailab.vision.shapes`: the coloured-shapes generator (shape x colour x size x
  position x rotation x background);
- :mod:`~genailab.vision.datasets`: MNIST-5k, scikit-learn's digits, the shapes, a folder of
  images (:func:`load_dataset`), the stratified :func:`split`, scikit-image's photos;
- :mod:`~genailab.vision.config`: :class:`CNNConfig`, the training settings (no torch);
- :mod:`~genailab.vision.training`: :func:`train`, with checkpoints, resume, a time budget,
  hooks and DDP; :mod:`~genailab.vision.cli` is ``genailab cnn train`` on top of it;
- :mod:`~genailab.vision.trained`: :class:`TrainedCNN` (``predict_proba``, ``activations``,
  ``embed``) and :func:`load`, a run folder back as a network;
- :mod:`~genailab.vision.pretrained`: :func:`pretrained`, the networks the experiments share,
  trained once and cached;
- :mod:`~genailab.vision.activation_maps`: a kernel as a sliding dot product, one image through
  every stage (``genailab.vision.activation_maps.activation_maps``);
- :mod:`~genailab.vision.receptive_field`: the input window behind each stage's units
  (``genailab.vision.receptive_field.receptive_field``, :func:`receptive_fields`);
- :mod:`~genailab.vision.neighbours`: nearest training images in the embedding and in pixels;
- :mod:`~genailab.vision.directions`: attribute directions in the embedding and walks along
  them;
- :mod:`~genailab.vision.top_activations`: the images that excite each channel most, found in
  one batched pass (``genailab.vision.top_activations.top_activations``), with their
  receptive-field crops;
- :mod:`~genailab.vision.feature_vis`: feature visualisation (:func:`visualize`) on a
  1/f Fourier image (:mod:`~genailab.vision.image_param`) with our data's colour
  decorrelation, random transformations (:mod:`~genailab.vision.robustness`) and the
  objectives of :mod:`genailab.vision.objectives` (a channel, a neuron, a class, a direction,
  diversity), used as a submodule;
- :mod:`~genailab.vision.atlas`: the activation atlas (patches, UMAP and PCA layouts,
  trustworthiness, the grid, its purity, feature-visualisation tiles).

Every name is imported on first use, so ``import genailab.vision`` costs no torch.

NOTE: a function named like its module (``pretrained``, ``activation_maps``,
``receptive_field``, ``top_activations``) is not exported here: the package attribute of that
name is the module once anything imports it, so the function would be there or not depending on
import order. Import it from its module: ``from genailab.vision.pretrained import pretrained``.

Examples
--------
>>> import genailab.vision as vision
>>> vision.STAGES[:3], vision.pretrained_config("mnist", "quick").epochs
(('conv1', 'pool1', 'conv2'), 5)
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "alexnet": ["AlexNet", "STAGES", "CONV_STAGES", "FC_STAGES", "check_stage"],
        "shapes": ["ShapeImages", "make_shapes", "SHAPES", "COLOURS", "BACKGROUNDS"],
        "datasets": ["ImageSet", "load_dataset", "split", "resize_images", "sample_photos"],
        "config": ["CNNConfig", "make_config"],
        "training": ["train", "summary_line"],
        "trained": ["TrainedCNN", "load"],
        "pretrained": ["PRETRAINED", "pretrained_config", "cache_folder"],
        "activation_maps": ["sliding_dot_product", "patch_dot", "PatchDot", "photo_input"],
        "receptive_field": ["ReceptiveField", "receptive_fields"],
        "neighbours": [
            "Neighbours",
            "nearest",
            "embedding_neighbours",
            "pixel_neighbours",
            "label_agreement",
            "agreement_per_query",
            "pixel_ranks",
        ],
        "directions": [
            "Direction",
            "attribute_direction",
            "find_direction",
            "group_directions",
            "direction_consistency",
            "walk",
            "fc8_logits",
            "marginal",
        ],
        "top_activations": ["TopActivations", "top_activations_by_stage", "channel_purity"],
        "image_param": ["FourierImage", "PixelImage", "colour_decorrelation", "colour_covariance"],
        "robustness": ["Robustness"],
        "feature_vis": ["visualize", "FeatureVisResult", "jitter_survival", "objective_values"],
        "atlas": [
            "Patches",
            "AtlasGrid",
            "Atlas",
            "collect_patches",
            "pca_layout",
            "umap_layout",
            "exact_knn",
            "trustworthiness",
            "grid_cells",
            "chance_purity",
            "cell_tiles",
            "cell_crops",
            "build_atlas",
        ],
    },
)
