/**
 * Learning-rate schedules as plain data, evaluated per epoch (0-based).
 * - step:       lr * gamma^floor(epoch / stepSize)              (Caffe "step", VGG-9 in the SQ code)
 * - multistep:  lr * gamma^(number of milestones <= epoch)       (ResNet-56 in the SQ code)
 * - linearDecay: lr - decrement * (epoch - start + 1) from `start` on, floored at minLr
 *                (the Chien & Chang scripts: from epoch 50, lr -= 0.001/200 per epoch)
 */
export type ScheduleConfig =
  | { name: 'constant' }
  | { name: 'step'; stepSize: number; gamma: number }
  | { name: 'multistep'; milestones: number[]; gamma: number }
  | { name: 'linearDecay'; start: number; decrement: number; minLr?: number };

export function lrAt(base: number, schedule: ScheduleConfig | undefined, epoch: number): number {
  if (!schedule) return base;
  switch (schedule.name) {
    case 'constant':
      return base;
    case 'step':
      if (!(schedule.stepSize > 0)) throw new Error(`schedule.stepSize must be > 0, got ${schedule.stepSize}`);
      return base * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
    case 'multistep':
      return base * Math.pow(schedule.gamma, schedule.milestones.filter((m) => m <= epoch).length);
    case 'linearDecay': {
      if (epoch < schedule.start) return base;
      const lr = base - schedule.decrement * (epoch - schedule.start + 1);
      return Math.max(lr, schedule.minLr ?? 0);
    }
    default:
      throw new Error(`Unknown schedule '${(schedule as { name: string }).name}': use constant, step, multistep or linearDecay.`);
  }
}
