package dev.bobbin.spi;

/**
 * The check that keeps the scheduler's two installs ({@link PinnedSection#install},
 * {@link CarrierContext#installLookup}) to the scheduler: they are public only because the scheduler lives
 * in another package, and an install from anywhere else would take the one place the scheduler's carrier
 * class needs when it initializes (every scheduler creation would then fail).
 */
final class SchedulerCaller {
    /** The class whose static initializer installs both. */
    private static final String CARRIER_CLASS = "dev.bobbin.scheduler.Carrier";

    private SchedulerCaller() { }

    /**
     * Throws unless the caller of the method that calls this one is the scheduler's carrier class, from this
     * module and class loader. That class installs once, from its static initializer, so no other check is
     * needed against a second install.
     */
    static void require(String what) {
        Class<?> caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                .walk(frames -> frames.skip(2).findFirst().orElseThrow().getDeclaringClass());
        if (!caller.getName().equals(CARRIER_CLASS) || caller.getModule() != SchedulerCaller.class.getModule()
                || caller.getClassLoader() != SchedulerCaller.class.getClassLoader()) {
            throw new IllegalCallerException(what + " is installed by the scheduler only, not by " + caller.getName());
        }
    }
}
