package dev.bobbin.bench;

/** The command-line numbers of the bench's own programs: a usage line, not a stack trace, for bad input. */
final class MainArgs {
    private MainArgs() { }

    /**
     * Prints {@code usage} and exits: with status 0 if {@code args} asks for help ({@code -h}, {@code --help}),
     * else with nothing done. Call first.
     */
    static void helpIfAsked(String[] args, String usage) {
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: " + usage);
                System.exit(0);
            }
        }
    }

    /** {@code args[index]} as an int of at least {@code min}, or {@code otherwise} when absent; exits 2 with {@code usage} if bad. */
    static int intArg(String[] args, int index, int otherwise, int min, String usage) {
        if (args.length <= index) return otherwise;
        try {
            int v = Integer.parseInt(args[index].replace("_", ""));
            if (v >= min) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println("bad argument '" + args[index] + "' (a whole number of at least " + min + ")");
        System.err.println("usage: " + usage);
        System.exit(2);
        return otherwise;
    }
}
