// Placeholder until the extra gradients land (being written now).
export function registerTrainingGradients(): void {}
