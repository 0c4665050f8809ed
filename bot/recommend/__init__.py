"""Papers ranked for each reader ("for you"): features per archive change (compute), a small
per-reader model at request time (serve). Imports storage and pure modules only."""

# The package's entry points load scikit-learn (~100 MB): import them where they are used, so a
# bot process pays for it only once someone asks for recommendations.
MIN_SAVED = 3  # fewer saved papers than this: no "for you" ranking
# bot_data: the process's FeatureCache, shared by /foryou and the dispatch job (one copy of the
# archive's features in memory), rebuilt when the archive changed.
FEATURES_KEY = "recommend_features"
