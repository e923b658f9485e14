/** Per-GPU series colours (CSS variables with their light-theme fallbacks), shared by every chart of GPUs. */
export const GPU_COLOURS = {
  "--g0": "#0072b2",
  "--g1": "#d55e00",
  "--g2": "#009e73",
  "--g3": "#cc79a7",
  "--g4": "#e69f00",
  "--g5": "#56b4e9",
  "--g6": "#8c6d31",
  "--g7": "#444",
};
export const GPU_KEYS = ["--g0", "--g1", "--g2", "--g3", "--g4", "--g5", "--g6", "--g7"] as const;
