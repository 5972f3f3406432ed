package org.unionportal.localsearch;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.lucene.util.StringHelper;
import org.elasticsearch.Build;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexVersion;
import org.elasticsearch.monitor.jvm.JvmInfo;
import org.elasticsearch.monitor.os.OsProbe;
import org.elasticsearch.monitor.process.ProcessProbe;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.PluginsLoader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Runs one real Elasticsearch 8 node in this JVM.
 *
 * <p>The ES home directory is laid out the way the official distribution does it
 * (config/, data/, logs/, modules/&lt;name&gt;/ with a plugin-descriptor.properties), then
 * the node is built with {@link Node} exactly like the distribution's bootstrap does after
 * its security phase. Modules are loaded by ES's own {@link PluginsLoader}.
 *
 * <p>Usage: {@code LocalSearchNode --home DIR --http-port PORT [--transport-port PORT] [--dist DIR]}
 */
public final class LocalSearchNode {

    private static final String NETTY_MODULE = "transport-netty4";
    private static final String COMPAT_MODULE = "localsearch-compat";

    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile Node node;

    public static void main(String[] args) {
        try {
            new LocalSearchNode().run(Options.parse(args));
        } catch (UsageException e) {
            System.err.println("localsearch: " + e.getMessage());
            System.err.println("usage: run.sh --home DIR --http-port PORT [--transport-port PORT]");
            System.exit(2);
        } catch (Throwable t) {
            System.err.println("localsearch: node failed to start");
            t.printStackTrace(System.err);
            System.err.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    private void run(Options opts) throws Exception {
        Path home = opts.home.toAbsolutePath().normalize();
        Path config = home.resolve("config");
        Path data = home.resolve("data");
        Path logs = home.resolve("logs");
        Path tmp = home.resolve("tmp");
        for (Path p : new Path[] { config, data, logs, tmp, home.resolve("plugins"), home.resolve("modules") }) {
            Files.createDirectories(p);
        }
        installModules(opts.dist, home.resolve("modules"));
        writeIfChanged(config.resolve("log4j2.properties"), resource("log4j2.properties"));
        Path yml = config.resolve("elasticsearch.yml");
        if (Files.exists(yml) == false) {
            // settings the launcher does not force; users may edit this file between runs
            writeIfChanged(yml, resource("elasticsearch.yml"));
        }

        Settings forced = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.repo", home.resolve("snapshots").toString())
            .put("path.logs", logs.toString())
            .put("node.name", opts.nodeName)
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", opts.httpPort)
            .put("transport.port", opts.transportPort)
            .build();

        Environment env = InternalSettingsPreparer.prepareEnvironment(forced, Map.of(), config, () -> opts.nodeName);

        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(opts.nodeName);
        LogConfigurator.configure(env, true);
        Logger log = LogManager.getLogger(LocalSearchNode.class);

        if (IndexVersion.current().luceneVersion().equals(org.apache.lucene.util.Version.LATEST) == false) {
            throw new IllegalStateException("Lucene on the classpath does not match this Elasticsearch build");
        }
        // same early initialisation the distribution performs before constructing the node
        StringHelper.randomId();
        ProcessProbe.getInstance();
        OsProbe.getInstance();
        JvmInfo.jvmInfo();

        log.info(
            "local single-node Elasticsearch {} (lucene {}) on java {}, home [{}]",
            Build.current().version(),
            org.apache.lucene.util.Version.LATEST,
            Runtime.version(),
            home
        );

        var modules = PluginsLoader.loadModulesBundles(env.modulesDir());
        var plugins = PluginsLoader.loadPluginsBundles(env.pluginsDir());
        PluginsLoader loader = PluginsLoader.createPluginsLoader(modules, plugins, Map.of(), false);

        installSignalHandlers();
        Runtime.getRuntime().addShutdownHook(new Thread(this::closeNode, "localsearch-shutdown-hook"));

        node = new Node(env, loader);
        node.start();
        log.info("node is ready: http://127.0.0.1:{}", opts.httpPort);

        stopRequested.await();
        closeNode();
        System.exit(0);
    }

    /** SIGTERM / SIGINT: stop the node cleanly, then exit 0 (the default JVM behaviour would be 143/130). */
    private void installSignalHandlers() {
        for (String sig : new String[] { "TERM", "INT" }) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stopRequested.countDown());
            } catch (IllegalArgumentException e) {
                // signal not available on this platform; the shutdown hook still closes the node
            }
        }
    }

    private void closeNode() {
        if (closing.compareAndSet(false, true) == false) {
            try {
                stopped.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        Node n = node;
        try {
            if (n != null) {
                Logger log = LogManager.getLogger(LocalSearchNode.class);
                log.info("stopping node");
                n.prepareForClose();
                n.close();
                if (n.awaitClose(30, TimeUnit.SECONDS) == false) {
                    log.warn("node did not stop within 30s");
                } else {
                    log.info("node stopped");
                }
            }
        } catch (Exception e) {
            e.printStackTrace(System.err);
        } finally {
            Configurator.shutdown((LoggerContext) LogManager.getContext(false));
            stopped.countDown();
        }
    }

    /**
     * Copies target/modules/&lt;name&gt;/*.jar into home/modules/&lt;name&gt;/ and writes the plugin descriptors.
     * Modules are replaced on every start so a rebuilt launcher never runs with stale module jars.
     */
    private static void installModules(Path dist, Path modulesHome) throws IOException {
        Path src = dist.resolve("modules");
        if (Files.isDirectory(src.resolve(NETTY_MODULE)) == false || Files.isDirectory(src.resolve(COMPAT_MODULE)) == false) {
            throw new IllegalStateException("module jars not found under " + src + " (run build.sh first)");
        }
        try (DirectoryStream<Path> existing = Files.newDirectoryStream(modulesHome)) {
            for (Path p : existing) {
                deleteRecursively(p);
            }
        }
        String esVersion = Build.current().version();
        String javaVersion = "17";
        for (String name : new String[] { NETTY_MODULE, COMPAT_MODULE }) {
            Path target = Files.createDirectories(modulesHome.resolve(name));
            try (DirectoryStream<Path> jars = Files.newDirectoryStream(src.resolve(name), "*.jar")) {
                for (Path jar : jars) {
                    Files.copy(jar, target.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        // The server runs on the classpath (unnamed module), so modules are declared non-modular
        // (no "modulename"): PluginsLoader then gives each one its own URLClassLoader.
        writeIfChanged(
            modulesHome.resolve(NETTY_MODULE).resolve("plugin-descriptor.properties"),
            descriptor(NETTY_MODULE, "Netty 4 based HTTP and transport layer", "org.elasticsearch.transport.netty4.Netty4Plugin", esVersion, javaVersion)
        );
        writeIfChanged(
            modulesHome.resolve(COMPAT_MODULE).resolve("plugin-descriptor.properties"),
            descriptor(
                COMPAT_MODULE,
                "Stand-in for the unpublished analysis-common and rest-root modules (same names and options)",
                "org.unionportal.localsearch.module.LocalCompatPlugin",
                esVersion,
                javaVersion
            )
        );
    }

    private static String descriptor(String name, String description, String classname, String esVersion, String javaVersion) {
        return "description=" + description + "\n"
            + "version=" + esVersion + "\n"
            + "name=" + name + "\n"
            + "classname=" + classname + "\n"
            + "java.version=" + javaVersion + "\n"
            + "elasticsearch.version=" + esVersion + "\n"
            + "extended.plugins=\n"
            + "has.native.controller=false\n";
    }

    private static void deleteRecursively(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = LocalSearchNode.class.getResourceAsStream("/localsearch/" + name)) {
            if (in == null) {
                throw new IOException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void writeIfChanged(Path file, String content) throws IOException {
        if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).equals(content)) {
            return;
        }
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    static final class UsageException extends Exception {
        UsageException(String msg) {
            super(msg);
        }
    }

    static final class Options {
        Path home;
        int httpPort = -1;
        String transportPort = "9300-9399";
        String nodeName = "local-es";
        Path dist;

        static Options parse(String[] args) throws UsageException {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                } else if (i + 1 < args.length) {
                    v = args[++i];
                } else {
                    throw new UsageException("missing value for " + a);
                }
                switch (a) {
                    case "--home" -> o.home = Path.of(v);
                    case "--http-port" -> {
                        try {
                            o.httpPort = Integer.parseInt(v);
                        } catch (NumberFormatException e) {
                            throw new UsageException("bad --http-port " + v);
                        }
                    }
                    case "--transport-port" -> o.transportPort = v;
                    case "--node-name" -> o.nodeName = v;
                    case "--dist" -> o.dist = Path.of(v);
                    default -> throw new UsageException("unknown argument " + a);
                }
            }
            if (o.home == null || o.httpPort <= 0 || o.httpPort > 65535) {
                throw new UsageException("--home and --http-port are required");
            }
            if (o.dist == null) {
                String d = System.getProperty("localsearch.dist");
                if (d == null) {
                    throw new UsageException("--dist (or -Dlocalsearch.dist) must point at the build's target directory");
                }
                o.dist = Path.of(d);
            }
            return o;
        }
    }
}
