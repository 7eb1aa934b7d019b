package io.aimesh.filter.redis;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import java.lang.System.Logger.Level;
import java.time.Duration;

/**
 * One connection to Redis for a batching reporter ({@code GlobalBudgets}, {@code SpendSharing}):
 * made on first use and again after a failure, with connects and commands bounded by the same
 * timeout, so an unreachable Redis counts as down within it rather than Lettuce's 10 s connect.
 *
 * <p>Not thread-safe: one reporter thread uses it.
 */
public final class RedisLink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RedisLink.class.getName());

    private final RedisClient client;
    private StatefulRedisConnection<String, String> connection;

    /** A link to {@code redis} ({@code redis://} or {@code rediss://} URI); connects on first use. */
    public RedisLink(String redis, Duration timeout) {
        RedisURI uri = RedisURI.create(requireNonNull(redis, "redis"));
        uri.setTimeout(requireNonNull(timeout, "timeout"));
        client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder().socketOptions(SocketOptions.builder().connectTimeout(timeout).build()).build());
    }

    /** The open connection, made now if there is none. */
    public StatefulRedisConnection<String, String> connection() {
        if (connection == null || !connection.isOpen()) {
            disconnect();
            connection = client.connect();
        }
        return connection;
    }

    /** Drops the connection (after a failure); the next {@link #connection} makes a new one. */
    public void disconnect() {
        if (connection != null) {
            try {
                connection.close();
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "closing the Redis connection failed", e);
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        disconnect();
        client.shutdown();
    }
}
