package dev.commsapi.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.logging.log4j.LogManager;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.cluster.health.ClusterHealthStatus;
import org.opensearch.common.settings.Settings;
import org.opensearch.core.common.transport.TransportAddress;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Test-only single-node OpenSearch started from Maven Central jars (no distribution, no Docker).
 *
 * <p>Configuration (argument wins over environment):
 * <ul>
 *   <li>{@code args[0]} or {@code OPENSEARCH_PORT}: HTTP port on 127.0.0.1 (default 9200, {@code 0} = any free port)</li>
 *   <li>{@code OPENSEARCH_DATA}: folder for home/data/logs (kept on exit); otherwise a temp folder deleted on exit</li>
 *   <li>{@code OPENSEARCH_CLUSTER_NAME}: cluster name (default {@code comms-api-test})</li>
 *   <li>{@code OPENSEARCH_PAINLESS=0}: do not load painless (faster start)</li>
 *   <li>{@code OPENSEARCH_DEFAULT_REPLICAS}: {@code cluster.default_number_of_replicas} (default 0)</li>
 *   <li>{@code OPENSEARCH_EXIT_ON_STDIN_EOF=1}: shut down when stdin reaches EOF (the parent process went away)</li>
 * </ul>
 *
 * <p>stdout carries exactly one line, {@code OPENSEARCH READY http://127.0.0.1:PORT}, printed once the HTTP listener
 * answers and cluster health is at least yellow. Everything else (logs, errors) goes to stderr.
 * SIGTERM / SIGINT close the node cleanly.
 */
public final class Launcher {

    /** Plugins that the OpenSearch distribution ships as modules and that we load from the classpath. */
    static final List<Class<? extends Plugin>> BASE_PLUGINS = List.of(
        Netty4Plugin.class,          // HTTP + transport (without it there is no REST layer at all)
        CommonAnalysisPlugin.class,  // standard analyzers/tokenizers/filters, lowercase normalizer, ...
        ReindexPlugin.class,         // _reindex, _update_by_query, _delete_by_query
        MapperExtrasPlugin.class     // scaled_float, rank_feature(s), search_as_you_type, token_count
    );

    /**
     * Painless (_update with script, script queries/sorts/fields, painless in _update_by_query) builds its whitelist
     * lookups at startup, which is most of the start time on a 2-core machine; enabled unless OPENSEARCH_PAINLESS=0.
     */
    static List<Class<? extends Plugin>> plugins() {
        List<Class<? extends Plugin>> plugins = new ArrayList<>(BASE_PLUGINS);
        if (!"0".equals(System.getenv("OPENSEARCH_PAINLESS"))) {
            plugins.add(PainlessPlugin.class);
        }
        if (securityDir() != null) {
            plugins.add(securityPlugin());
        }
        return plugins;
    }

    /** {@code OPENSEARCH_SECURITY_DIR}: a folder written by secure-config.sh; set = a secured node (TLS + users). */
    static Path securityDir() {
        String dir = System.getenv("OPENSEARCH_SECURITY_DIR");
        return dir == null || dir.isBlank() ? null : Paths.get(dir).toAbsolutePath();
    }

    /** The security plugin is on the classpath only for a secured node (run.sh adds target/security/*.jar). */
    @SuppressWarnings("unchecked")
    static Class<? extends Plugin> securityPlugin() {
        try {
            return (Class<? extends Plugin>) Class.forName("org.opensearch.security.OpenSearchSecurityPlugin");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("OPENSEARCH_SECURITY_DIR is set but the security plugin is not on the classpath (prepare.sh)", e);
        }
    }

    /**
     * Copies the certificates and the security configuration into the node's config folder and returns the
     * plugin's settings: TLS on HTTP and transport with the test CA, the admin DN, the node DN, and a security
     * index initialised from config/opensearch-security/ on first start.
     */
    static Settings securitySettings(Path home, Path dir) throws IOException {
        Path config = home.resolve("config");
        for (String f : List.of("root-ca.pem", "node.pem", "node-key.pem", "admin.pem", "admin-key.pem")) {
            Files.copy(dir.resolve(f), config.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path sec = config.resolve("opensearch-security");
        Files.createDirectories(sec);
        try (var files = Files.list(dir.resolve("opensearch-security"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, sec.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return Settings.builder()
            .put("plugins.security.ssl.transport.pemcert_filepath", "node.pem")
            .put("plugins.security.ssl.transport.pemkey_filepath", "node-key.pem")
            .put("plugins.security.ssl.transport.pemtrustedcas_filepath", "root-ca.pem")
            .put("plugins.security.ssl.transport.enforce_hostname_verification", false)
            .put("plugins.security.ssl.http.enabled", true)
            .put("plugins.security.ssl.http.pemcert_filepath", "node.pem")
            .put("plugins.security.ssl.http.pemkey_filepath", "node-key.pem")
            .put("plugins.security.ssl.http.pemtrustedcas_filepath", "root-ca.pem")
            .put("plugins.security.ssl.http.clientauth_mode", "OPTIONAL")
            .put("plugins.security.allow_default_init_securityindex", true)
            .putList("plugins.security.authcz.admin_dn", "CN=admin,O=comms-api-test")
            .putList("plugins.security.nodes_dn", "CN=node,O=comms-api-test")
            .put("plugins.security.audit.type", "noop")
            .put("plugins.security.check_snapshot_restore_write_privileges", true)
            .put("plugins.security.restapi.roles_enabled", "all_access")
            .build();
    }

    private static final PrintStream OUT = System.out;
    private static final PrintStream ERR = System.err;

    private Launcher() {}

    /**
     * A plain {@link Node} whose protected constructor takes classpath plugins (what the test framework's MockNode
     * does). MockNode itself is unusable outside a RandomizedRunner test: with randomizedtesting on the classpath,
     * {@code org.opensearch.common.Randomness} insists on a test context and node-id generation throws.
     */
    static final class TestNode extends Node {
        TestNode(Settings settings) {
            super(
                InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> settings.get("node.name")),
                plugins(),
                true // forbidPrivateIndexSettings: behave like a real node
            );
        }
    }

    public static void main(String[] args) throws Exception {
        // Everything that is not the ready line goes to stderr, even libraries that print to System.out.
        System.setOut(ERR);
        final long t0 = System.nanoTime();

        final int port = parsePort(args.length > 0 ? args[0] : System.getenv("OPENSEARCH_PORT"));
        final String clusterName = envOr("OPENSEARCH_CLUSTER_NAME", "comms-api-test");
        final String dataEnv = System.getenv("OPENSEARCH_DATA");
        final boolean tempHome = dataEnv == null || dataEnv.isBlank();
        final Path home = tempHome
            ? Files.createTempDirectory("comms-api-opensearch-")
            : Files.createDirectories(Paths.get(dataEnv).toAbsolutePath());
        Files.createDirectories(home.resolve("config"));

        final Path securityDir = securityDir();
        final Settings.Builder builder = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", clusterName)
            .put("node.name", clusterName + "-node")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", Integer.toString(port))
            .put("transport.port", "0") // ephemeral; single-node never talks to anyone
            .put("bootstrap.memory_lock", false)
            // test machines often have fuller disks than production; never turn indices read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true)
            .put("action.destructive_requires_name", false);
        if (securityDir == null) {
            builder.put("http.type", "netty4").put("transport.type", "netty4");
        } else {
            // the security plugin picks its own TLS transports (its additionalSettings)
            builder.put(securitySettings(home, securityDir));
        }
        final Settings settings = builder.build();

        final AtomicBoolean stopping = new AtomicBoolean(false);
        final CountDownLatch stopped = new CountDownLatch(1);
        final Node[] holder = new Node[1];

        Thread hook = new Thread(() -> {
            if (!stopping.compareAndSet(false, true)) {
                return;
            }
            try {
                Node node;
                synchronized (holder) {
                    node = holder[0];
                }
                if (node != null) {
                    ERR.println("[launcher] stopping OpenSearch node");
                    try {
                        node.close();
                        if (!node.awaitClose(15, TimeUnit.SECONDS)) {
                            ERR.println("[launcher] node did not close within 15s");
                        }
                    } catch (Throwable t) {
                        ERR.println("[launcher] error while closing node: " + t);
                    }
                }
                if (tempHome) {
                    deleteRecursively(home);
                }
                ERR.println("[launcher] stopped");
            } finally {
                stopped.countDown();
                LogManager.shutdown();
            }
        }, "opensearch-launcher-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);

        if ("1".equals(System.getenv("OPENSEARCH_EXIT_ON_STDIN_EOF"))) {
            Thread watchdog = new Thread(() -> {
                try {
                    InputStream in = System.in;
                    byte[] buf = new byte[256];
                    while (in.read(buf) >= 0) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // treat as EOF
                }
                ERR.println("[launcher] stdin closed, shutting down");
                System.exit(0);
            }, "opensearch-launcher-stdin-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }

        final String url;
        try {
            Node node = new TestNode(settings);
            synchronized (holder) {
                holder[0] = node;
            }
            if (stopping.get()) {
                return; // SIGTERM while constructing; the hook handles it
            }
            node.start();

            HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
            int boundPort = pickPort(http.boundAddress().boundAddresses());
            url = (securityDir == null ? "http" : "https") + "://127.0.0.1:" + boundPort;

            ClusterHealthStatus status = node.client()
                .admin()
                .cluster()
                .prepareHealth()
                .setWaitForYellowStatus()
                .setTimeout(org.opensearch.common.unit.TimeValue.timeValueSeconds(120))
                .get()
                .getStatus();
            if (status == ClusterHealthStatus.RED) {
                throw new IllegalStateException("cluster health is RED after start");
            }
            // A single node can never allocate a replica: default new indices to 0 replicas so they are green, not
            // forever yellow (an index template or explicit index setting still wins). This setting is read from the
            // cluster metadata, not from node settings, hence the API call.
            node.client()
                .admin()
                .cluster()
                .prepareUpdateSettings()
                .setPersistentSettings(
                    Settings.builder().put("cluster.default_number_of_replicas", Integer.parseInt(envOr("OPENSEARCH_DEFAULT_REPLICAS", "0")))
                )
                .get();
            waitForHttp(url, Duration.ofSeconds(60), securityDir);
        } catch (Throwable t) {
            if (stopping.get()) {
                return;
            }
            t.printStackTrace(ERR);
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            // last line of the output, so that a caller showing the tail sees the reason
            ERR.println("[launcher] failed to start OpenSearch: " + t + (root != t ? " (root cause: " + root + ")" : ""));
            ERR.flush();
            System.exit(1);
            return;
        }

        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        ERR.println("[launcher] started in " + ms + " ms (home " + home + (tempHome ? ", temporary" : "") + ")");
        OUT.println("OPENSEARCH READY " + url);
        OUT.flush();

        // Keep the main thread alive until a signal runs the shutdown hook.
        stopped.await();
    }

    private static int parsePort(String raw) {
        if (raw == null || raw.isBlank()) {
            return 9200;
        }
        int p = Integer.parseInt(raw.trim());
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("bad port: " + raw);
        }
        return p;
    }

    private static String envOr(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    private static int pickPort(TransportAddress[] addresses) {
        for (TransportAddress a : addresses) {
            InetSocketAddress s = a.address();
            if (s.getAddress().isLoopbackAddress() && s.getAddress().getAddress().length == 4) {
                return s.getPort();
            }
        }
        return addresses[0].address().getPort();
    }

    /** Proves the REST layer answers over the real socket, not just the in-process client. */
    private static void waitForHttp(String url, Duration timeout, Path securityDir) throws Exception {
        HttpClient.Builder clientBuilder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (securityDir != null) {
            clientBuilder.sslContext(trusting(securityDir.resolve("root-ca.pem")));
        }
        HttpClient client = clientBuilder.build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/_cluster/health?wait_for_status=yellow&timeout=30s"))
            .timeout(Duration.ofSeconds(40))
            .GET()
            .build();
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> res = client.send(req, HttpResponse.BodyHandlers.ofString());
                // a secured node answers an anonymous caller 401 once its security index is initialised
                if (res.statusCode() == 200 || (securityDir != null && res.statusCode() == 401)) {
                    return;
                }
                last = new IllegalStateException("HTTP " + res.statusCode() + ": " + res.body());
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("HTTP health check did not pass within " + timeout, last);
    }

    /** An SSL context that trusts exactly the test CA (TLS verified, as the server's clients do it). */
    private static javax.net.ssl.SSLContext trusting(Path caPem) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            ks.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            ERR.println("[launcher] could not delete " + root + ": " + e);
        }
    }
}
