package dev.bobbin.scheduler;

/** For tests outside this package: holds a registry stripe's lock, as a carrier frozen by a debugger would. */
public final class RegistryStripes {
    private RegistryStripes() { }

    /** Locks the stripe of {@code fiber} in {@code registry}; the returned action unlocks it. */
    public static Runnable hold(FiberRegistry registry, Thread fiber) {
        return registry.holdStripeOf(fiber);
    }
}
